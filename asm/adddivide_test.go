package asm_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tripletmine/triplet/asm"
	"github.com/tripletmine/triplet/internal/kerneltest"
)

// addDivideWant is what AddDivide must give for one element at every
// level: +0 where d is zero, else the sum a + b, the denominator 2·d and
// their quotient, each rounded once to float32. It computes each step in
// float64 and rounds it to float32: float64 carries more than twice
// float32's 24 bits plus two, so rounding a sum or a quotient first to
// float64 and then to float32 gives the float32 rounding of the exact
// value, and 2·d is exact in float64.
func addDivideWant(a, b, d float32) float32 {
	if d == 0 {
		return 0
	}
	sum := float32(float64(a) + float64(b))
	twice := float32(2 * float64(d))
	return float32(float64(sum) / float64(twice))
}

// addDivideKinds name the inputs of AddDivide that the tests draw; see
// addDivideInput.
var addDivideKinds = []string{
	"weights", "zeros", "subnormal", "huge", "cancel", "mixed",
}

// addDivideInput draws a[i], b[i] and d[i] of a kind:
//
//	weights    a and b around 1 in size, of either sign, and distances d in
//	           [0, 10), an eighth of them exactly 0;
//	zeros      a and b ±0 or ±1, d ±0 or 1: sums of +0 and -0, quotients
//	           of ±0, and d = -0, which counts as zero;
//	subnormal  d subnormal, whose quotients may overflow to ±Inf, or a and
//	           b subnormal over a normal d, whose quotients underflow;
//	huge       a, b and d up to the largest float: sums that overflow to
//	           ±Inf, and 2·d that overflows to +Inf, giving ±0 and NaN;
//	cancel     b = -a, or -a plus a tiny remainder: sums of exactly +0 or
//	           far below a and b;
//	mixed      any of these.
func addDivideInput(rng *rand.Rand, kind string) (a, b, d float32) {
	if kind == "mixed" {
		kind = addDivideKinds[rng.IntN(len(addDivideKinds)-1)]
	}
	switch kind {
	case "zeros":
		return randomSign(rng) * float32(rng.IntN(2)), randomSign(rng) * float32(rng.IntN(2)),
			[]float32{0, negativeZero, 1}[rng.IntN(3)]
	case "subnormal":
		tiny := math.Float32frombits(1 + rng.Uint32N(0x007fffff))
		if rng.IntN(2) == 0 {
			return float32(rng.NormFloat64()), float32(rng.NormFloat64()), tiny
		}
		return randomSign(rng) * tiny, randomSign(rng) * tiny / 3, 0.5 + rng.Float32()
	case "huge":
		huge := func() float32 {
			if rng.IntN(4) == 0 {
				return math.MaxFloat32
			}
			return float32(math.Pow(10, 36+2.5*rng.Float64()))
		}
		return randomSign(rng) * huge(), randomSign(rng) * huge(), huge()
	case "cancel":
		a = float32(rng.NormFloat64())
		b = -a
		if rng.IntN(2) == 0 {
			b += a * 0x1p-20
		}
		return a, b, rng.Float32()
	}
	d = 10 * rng.Float32()
	if rng.IntN(8) == 0 {
		d = 0
	}
	return float32(rng.NormFloat64()), float32(rng.NormFloat64()), d
}

// fillAddDivide fills a, b and d with inputs of a kind and returns copies
// of them.
func fillAddDivide(rng *rand.Rand, kind string, a, b, d []float32) (a0, b0, d0 []float32) {
	for i := range a {
		a[i], b[i], d[i] = addDivideInput(rng, kind)
	}
	return append([]float32(nil), a...), append([]float32(nil), b...),
		append([]float32(nil), d...)
}

// checkAddDivide fails t unless dst has the bits of addDivideWant for the
// inputs a0, b0, d0 at every element.
func checkAddDivide(t *testing.T, what string, dst, a0, b0, d0 []float32) {
	t.Helper()
	for i := range dst {
		want := addDivideWant(a0[i], b0[i], d0[i])
		if math.Float32bits(dst[i]) != math.Float32bits(want) {
			t.Fatalf("%s: element %d of %d: (%g + %g) / (2·%g) = %g (%#08x), want %g (%#08x)",
				what, i, len(dst), a0[i], b0[i], d0[i], dst[i], math.Float32bits(dst[i]),
				want, math.Float32bits(want))
		}
	}
}

// checkUnchanged fails t unless s still has the bits of s0.
func checkUnchanged(t *testing.T, what, name string, s, s0 []float32) {
	t.Helper()
	for i := range s {
		if math.Float32bits(s[i]) != math.Float32bits(s0[i]) {
			t.Fatalf("%s: %s[%d] changed from %g to %g", what, name, i, s0[i], s[i])
		}
	}
}

// TestAddDivideLengths runs AddDivide on every test length, with the four
// slices at offsets 0..15 into fenced buffers.
func TestAddDivideLengths(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	kerneltest.Run(t, func(t *testing.T, _ asm.Level) {
		for _, n := range elementwiseLengths() {
			for _, off := range kerneltest.Offsets() {
				kind := addDivideKinds[(n+off)%len(addDivideKinds)]
				offsets := [4]int{off, (off * 7) % 16, (off * 3) % 16, (off*5 + 1) % 16}
				var s, whole [4][]float32
				for k := range s {
					s[k], whole[k] = kerneltest.Fenced(n, offsets[k])
				}
				dst, a, b, d := s[0], s[1], s[2], s[3]
				a0, b0, d0 := fillAddDivide(rng, kind, a, b, d)
				asm.AddDivide(dst, a, b, d)
				what := fmt.Sprintf("n=%d offsets %v %s", n, offsets, kind)
				checkAddDivide(t, what, dst, a0, b0, d0)
				checkUnchanged(t, what, "a", a, a0)
				checkUnchanged(t, what, "b", b, b0)
				checkUnchanged(t, what, "d", d, d0)
				for k := range whole {
					kerneltest.CheckFence(t, whole[k], n, offsets[k])
				}
			}
		}
	})
}

// TestAddDivideGuardPages places the four slices flush against
// inaccessible pages, dst and b on one side and a and d on the other, so
// that any access outside them faults.
func TestAddDivideGuardPages(t *testing.T) {
	if !kerneltest.GuardPages {
		t.Log("no guard pages on this system; stray writes are still caught by fences")
	}
	rng := rand.New(rand.NewPCG(53, 54))
	kerneltest.Run(t, func(t *testing.T, level asm.Level) {
		kerneltest.SkipGuardsUnderEmulation(t, level)
		for n := 0; n <= 67; n++ {
			for _, back := range []bool{false, true} {
				dst := kerneltest.Floats(t, n, back)
				a := kerneltest.Floats(t, n, !back)
				b := kerneltest.Floats(t, n, back)
				d := kerneltest.Floats(t, n, !back)
				a0, b0, d0 := fillAddDivide(rng, "mixed", a, b, d)
				asm.AddDivide(dst, a, b, d)
				checkAddDivide(t, fmt.Sprintf("n=%d dst back=%v", n, back), dst, a0, b0, d0)
			}
		}
	})
}

// defaultNaN returns the NaN that this machine's float32 division of ∞ by
// ∞ gives: 0xffc00000 on x86, 0x7fc00000 on arm64. It divides values read
// from a slice, so that the compiler does not fold the division.
func defaultNaN() float32 {
	inf := []float32{float32(math.Inf(1))}
	return inf[0] / inf[0]
}

// TestAddDivideSpecial checks the edge cases one by one, with the bits
// each must give spelled out.
func TestAddDivideSpecial(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := defaultNaN()
	payloadNaN := math.Float32frombits(0x7fc01234)
	cases := []struct {
		name          string
		a, b, d, want float32
	}{
		{"ordinary", 1, 2, 0.75, 2},
		{"zero distance", 1, 2, 0, 0},
		{"negative zero distance", 1, 2, negativeZero, 0},
		{"zero distance, zero sum", 0, 0, 0, 0},
		{"zero distance, negative zero sum", negativeZero, negativeZero, 0, 0},
		{"zero distance, overflowing sum", math.MaxFloat32, math.MaxFloat32, 0, 0},
		{"negative zero sum", negativeZero, negativeZero, 1, negativeZero},
		{"cancelling sum", 3, -3, 1, 0},
		{"smallest distance", 1, 0, math.SmallestNonzeroFloat32, inf},
		{"subnormal distance", 0x1p-140, 0, 0x1p-141, 1},
		{"underflow", 0x1p-149, 0, 4, 0},
		{"overflowing sum", math.MaxFloat32, math.MaxFloat32, 1, inf},
		{"overflowing denominator", 1, 0, math.MaxFloat32, 0},
		{"overflowing denominator, negative", -1, 0, math.MaxFloat32, negativeZero},
		{"both overflow", math.MaxFloat32, math.MaxFloat32, math.MaxFloat32, nan},
		{"largest power of two as denominator", 0x1p126, 0x1p126, 0x1p126, 1},
		// Callers pass no NaN distance, but the levels still agree on one:
		// it is divided, and the quotient is d's NaN.
		{"NaN distance", 1, 2, payloadNaN, payloadNaN},
	}
	kerneltest.Run(t, func(t *testing.T, _ asm.Level) {
		for _, c := range cases {
			want := math.Float32bits(c.want)
			if reference := addDivideWant(c.a, c.b, c.d); math.Float32bits(reference) != want {
				t.Fatalf("%s: the test's reference gives %g, the table %g", c.name, reference,
					c.want)
			}
			// Run each case alone, and in 32 lanes at once.
			for _, n := range []int{1, 32} {
				a, b, d := make([]float32, n), make([]float32, n), make([]float32, n)
				for i := range a {
					a[i], b[i], d[i] = c.a, c.b, c.d
				}
				dst := make([]float32, n)
				asm.AddDivide(dst, a, b, d)
				for i, got := range dst {
					if math.Float32bits(got) != want {
						t.Errorf("%s, lane %d of %d: (%g + %g) / (2·%g) = %g (%#08x), want %#08x",
							c.name, i, n, c.a, c.b, c.d, got, math.Float32bits(got), want)
						break
					}
				}
			}
		}
	})
}

// TestAddDivideSameSlice checks that dst may be a, b or d itself.
func TestAddDivideSameSlice(t *testing.T) {
	rng := rand.New(rand.NewPCG(55, 56))
	kerneltest.Run(t, func(t *testing.T, _ asm.Level) {
		for _, n := range []int{1, 15, 64, 100, 1000} {
			for _, alias := range []string{"a", "b", "d"} {
				a, b, d := make([]float32, n), make([]float32, n), make([]float32, n)
				a0, b0, d0 := fillAddDivide(rng, "mixed", a, b, d)
				dst := map[string][]float32{"a": a, "b": b, "d": d}[alias]
				asm.AddDivide(dst, a, b, d)
				checkAddDivide(t, fmt.Sprintf("n=%d dst=%s", n, alias), dst, a0, b0, d0)
			}
		}
	})
}

func TestAddDividePanics(t *testing.T) {
	for _, lengths := range [][4]int{{3, 4, 4, 4}, {4, 3, 4, 4}, {4, 4, 3, 4}, {4, 4, 4, 3},
		{0, 1, 1, 1}} {
		t.Run(fmt.Sprintf("lengths=%v", lengths), func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("no panic")
				}
			}()
			asm.AddDivide(make([]float32, lengths[0]), make([]float32, lengths[1]),
				make([]float32, lengths[2]), make([]float32, lengths[3]))
		})
	}
}

// TestAddDivideAllocations checks that AddDivide allocates nothing: the
// stubs do not let the slices escape.
func TestAddDivideAllocations(t *testing.T) {
	if kerneltest.Race {
		t.Skip("the race detector allocates")
	}
	kerneltest.Run(t, func(t *testing.T, level asm.Level) {
		dst, a, b, d := make([]float32, 100), make([]float32, 100), make([]float32, 100),
			make([]float32, 100)
		allocs := testing.AllocsPerRun(10, func() { asm.AddDivide(dst, a, b, d) })
		if allocs != 0 {
			t.Errorf("AddDivide allocates %v times per call at level %v", allocs, level)
		}
	})
}

// BenchmarkAddDivide turns symmetrised weights into weights for squared
// distances, over distances with some zeros among them, and reports
// elements per second.
func BenchmarkAddDivide(b *testing.B) {
	kerneltest.Bench(b, func(b *testing.B) {
		for _, n := range []int{4096, 1 << 20} {
			b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
				rng := rand.New(rand.NewPCG(6, uint64(n)))
				dst := make([]float32, n)
				x, y, d := make([]float32, n), make([]float32, n), make([]float32, n)
				for i := range d {
					x[i], y[i], d[i] = addDivideInput(rng, "weights")
				}
				for b.Loop() {
					asm.AddDivide(dst, x, y, d)
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
			})
		}
	})
}
