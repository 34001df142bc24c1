package asm_test

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/tripletmine/triplet/asm"
	"github.com/tripletmine/triplet/internal/kerneltest"
)

// elementwiseLengths are the slice lengths the elementwise tests sweep:
// every length around the vector widths and a round of four vectors, and
// lengths on both sides of the 65536-element chunk of one assembly call.
func elementwiseLengths() []int {
	var lengths []int
	for n := 0; n <= 67; n++ {
		lengths = append(lengths, n)
	}
	return append(lengths, 1000, 65535, 65536, 65537, 200000)
}

// sqrtKinds name the inputs of Sqrt that the tests draw; see sqrtInput.
var sqrtKinds = []string{
	"distances", "bits", "zeros", "huge", "tiny", "squares", "special", "mixed",
}

// sqrtInput draws one non-negative float of a kind: "distances" are
// squared distances in [0, 100); "bits" any finite float from uniform
// random bits; "zeros" +0 and -0; "huge" from 1e30 up to 1e38 and the
// largest float; "tiny" subnormals and the smallest normal floats;
// "squares" exact squares k²·4^e, whose roots are exact; "special" the
// edges of the range, +Inf among them; "mixed" any of these.
func sqrtInput(rng *rand.Rand, kind string) float32 {
	if kind == "mixed" {
		kind = sqrtKinds[rng.IntN(len(sqrtKinds)-1)]
	}
	switch kind {
	case "distances":
		return 100 * rng.Float32()
	case "bits":
		return math.Float32frombits(rng.Uint32N(0x7f800000))
	case "zeros":
		return []float32{0, negativeZero}[rng.IntN(2)]
	case "huge":
		if rng.IntN(8) == 0 {
			return math.MaxFloat32
		}
		return float32(math.Pow(10, 30+8*rng.Float64()))
	case "tiny":
		// Subnormals, then normals up to 2⁻¹²⁰.
		return math.Float32frombits(rng.Uint32N(7 << 23))
	case "squares":
		k := float64(rng.IntN(1 << 12))
		return float32(math.Ldexp(k*k, 2*(rng.IntN(101)-50)))
	case "special":
		special := []float32{0, negativeZero, 1, 4, 0.25, float32(math.Inf(1)),
			math.MaxFloat32, math.SmallestNonzeroFloat32, 0x1p-126}
		return special[rng.IntN(len(special))]
	}
	panic("unknown kind " + kind)
}

var negativeZero = float32(math.Copysign(0, -1))

// fillSqrt fills x with inputs of a kind and returns a copy.
func fillSqrt(rng *rand.Rand, kind string, x []float32) []float32 {
	for i := range x {
		x[i] = sqrtInput(rng, kind)
	}
	return append([]float32(nil), x...)
}

// checkSqrt fails t unless every root[i] has the bits of the correctly
// rounded square root of in[i], which every level must give.
func checkSqrt(t *testing.T, what string, root, in []float32) {
	t.Helper()
	for i, v := range in {
		want := float32(math.Sqrt(float64(v)))
		if math.Float32bits(root[i]) != math.Float32bits(want) {
			t.Fatalf("%s: Sqrt(%g) at %d of %d = %g (%#08x), want %g (%#08x)", what, v, i,
				len(in), root[i], math.Float32bits(root[i]), want, math.Float32bits(want))
		}
	}
}

// TestSqrtLengths runs Sqrt on every test length at every offset 0..15
// into a fenced buffer: the roots must be exact and the fences untouched.
func TestSqrtLengths(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	kerneltest.Run(t, func(t *testing.T, _ asm.Level) {
		for _, n := range elementwiseLengths() {
			for _, off := range kerneltest.Offsets() {
				kind := sqrtKinds[(n+off)%len(sqrtKinds)]
				x, whole := kerneltest.Fenced(n, off)
				in := fillSqrt(rng, kind, x)
				asm.Sqrt(x)
				what := fmt.Sprintf("n=%d offset=%d %s", n, off, kind)
				checkSqrt(t, what, x, in)
				kerneltest.CheckFence(t, whole, n, off)
			}
		}
	})
}

// TestSqrtGuardPages places x flush against an inaccessible page, on
// either side, so that any access outside it faults.
func TestSqrtGuardPages(t *testing.T) {
	if !kerneltest.GuardPages {
		t.Log("no guard pages on this system; stray writes are still caught by fences")
	}
	rng := rand.New(rand.NewPCG(23, 24))
	kerneltest.Run(t, func(t *testing.T, level asm.Level) {
		kerneltest.SkipGuardsUnderEmulation(t, level)
		for n := 0; n <= 67; n++ {
			for _, back := range []bool{false, true} {
				x := kerneltest.Floats(t, n, back)
				in := fillSqrt(rng, "mixed", x)
				asm.Sqrt(x)
				checkSqrt(t, fmt.Sprintf("n=%d back=%v", n, back), x, in)
			}
		}
	})
}

// TestSqrtBitPatterns runs Sqrt over a sweep of all non-negative floats,
// from +0 to +Inf in steps of 997 bit patterns, plus the ends: every
// exponent, subnormals included, with many mantissas.
func TestSqrtBitPatterns(t *testing.T) {
	const stride = 997
	var in []float32
	for bits := uint32(0); bits < 0x7f800000; bits += stride {
		in = append(in, math.Float32frombits(bits))
	}
	in = append(in, math.MaxFloat32, float32(math.Inf(1)))
	kerneltest.Run(t, func(t *testing.T, _ asm.Level) {
		x := append([]float32(nil), in...)
		asm.Sqrt(x)
		checkSqrt(t, "sweep", x, in)
	})
}

// TestSqrtNegative checks that a negative input, which callers never pass,
// gives NaN at every level, and leaves the other elements alone.
func TestSqrtNegative(t *testing.T) {
	kerneltest.Run(t, func(t *testing.T, _ asm.Level) {
		in := make([]float32, 37)
		for i := range in {
			in[i] = float32(i)
		}
		negative := map[int]bool{0: true, 9: true, 17: true, 36: true}
		in[0], in[9], in[17], in[36] = -1, float32(math.Inf(-1)), -0x1p-140, -3e38
		x := append([]float32(nil), in...)
		asm.Sqrt(x)
		for i, v := range x {
			if negative[i] != math.IsNaN(float64(v)) {
				t.Errorf("Sqrt(%g) = %g", in[i], v)
			}
		}
	})
}

// addScaledKinds name the inputs of AddScaled that the tests draw; see
// scaleFor and operandsFor.
var addScaledKinds = []string{"normal", "zeros", "huge", "tiny", "cancel", "halfway", "mixed"}

// scaleFor draws the scale a of one call for a kind of inputs.
func scaleFor(rng *rand.Rand, kind string) float32 {
	switch kind {
	case "zeros":
		return []float32{0, negativeZero, 1, -2}[rng.IntN(4)]
	case "huge":
		return randomSign(rng) * float32(math.Pow(10, 15+3.5*rng.Float64()))
	case "tiny":
		return randomSign(rng) * (0.5 + 1.5*rng.Float32())
	case "halfway":
		return halfwayFactor(rng)
	}
	return float32(rng.NormFloat64())
}

// operandsFor draws x[i] and dst[i] for a scale a and a kind:
//
//	normal   both around 1;
//	zeros    x ±0 or ±1 and dst ±0, so that results are signed zeros or ±a;
//	huge     |x| up to 10^18.5 and |dst| up to 10^37, with a of the same kind
//	         keeping a·x + dst finite;
//	tiny     subnormal x and dst, so that results round to the subnormal grid;
//	cancel   dst = -(a·x rounded to float32): only a fused multiply-add sees
//	         the rounding error of the product, which is the exact result;
//	halfway  a·x exactly halfway between two float32 for about half the
//	         elements, and |dst| far below a float64 ulp of a·x: float64 loses
//	         dst and the generic level rounds the tie to even, while one
//	         rounding goes the way dst points;
//	mixed    any of these.
func operandsFor(rng *rand.Rand, kind string, a float32) (x, dst float32) {
	if kind == "mixed" {
		kind = addScaledKinds[rng.IntN(len(addScaledKinds)-1)]
	}
	switch kind {
	case "zeros":
		return randomSign(rng) * float32(rng.IntN(2)), randomSign(rng) * 0
	case "huge":
		return randomSign(rng) * float32(math.Pow(10, 15+3.5*rng.Float64())),
			randomSign(rng) * float32(math.Pow(10, 30+7*rng.Float64()))
	case "tiny":
		return randomSign(rng) * math.Float32frombits(rng.Uint32N(0x00800000)),
			randomSign(rng) * math.Float32frombits(rng.Uint32N(0x00800000))
	case "cancel":
		x = float32(rng.NormFloat64())
		return x, -float32(a * x)
	case "halfway":
		return halfwayFactor(rng), randomSign(rng) * float32(0x1p-60*(1+rng.Float64()))
	}
	return float32(rng.NormFloat64()), float32(rng.NormFloat64())
}

// halfwayFactor returns 1 + k/4096 for a random odd k < 4096. The product
// of two such factors is an odd multiple of 2⁻²⁴; when it is below 2 that
// is exactly halfway between two float32.
func halfwayFactor(rng *rand.Rand) float32 {
	return 1 + float32(2*rng.IntN(2048)+1)/4096
}

func randomSign(rng *rand.Rand) float32 {
	if rng.IntN(2) == 0 {
		return -1
	}
	return 1
}

// fusedExact returns a·x + d rounded once, to nearest even, from its exact
// value: a float32 fused multiply-add. 1024 bits hold the exact value,
// whose set bits lie between 2²⁵⁶ and 2⁻²⁹⁸.
func fusedExact(a, x, d float32) float32 {
	const exactBits = 1024
	sum := new(big.Float).SetPrec(exactBits).SetFloat64(float64(a))
	sum.Mul(sum, new(big.Float).SetFloat64(float64(x)))
	sum.Add(sum, new(big.Float).SetFloat64(float64(d)))
	f, _ := sum.Float32()
	return f
}

// halfway32 reports whether a finite float64 lies exactly halfway between
// two neighbouring float32.
func halfway32(v float64) bool {
	f := float32(v)
	if float64(f) == v || math.IsInf(float64(f), 0) {
		return false
	}
	other := math.Nextafter32(f, float32(math.Copysign(math.Inf(1), v-float64(f))))
	return (float64(f)+float64(other))/2 == v
}

// addScaledWant is what AddScaled must give for one element at a level.
// The generic level follows its reference, rounding through float64. The
// assembly levels round the exact a·x + d once: that is float32 of the
// float64 value too, unless the float64 value is halfway between two
// float32 (AddScaled's doc comment says why), and then fusedExact.
// TestAddScaledRounding checks this shortcut against fusedExact.
func addScaledWant(level asm.Level, a, x, d float32) float32 {
	wide := math.FMA(float64(a), float64(x), float64(d))
	if level == asm.Generic || !halfway32(wide) {
		return float32(wide)
	}
	return fusedExact(a, x, d)
}

// fillAddScaled fills dst and x with inputs of a kind for scale a and
// returns copies of both.
func fillAddScaled(rng *rand.Rand, kind string, a float32,
	dst, x []float32) (dst0, x0 []float32) {

	for i := range x {
		x[i], dst[i] = operandsFor(rng, kind, a)
	}
	return append([]float32(nil), dst...), append([]float32(nil), x...)
}

// checkAddScaled fails t unless dst holds what the level must give for
// dst0 + a·x0, and x still holds x0.
func checkAddScaled(t *testing.T, level asm.Level, what string, dst []float32, a float32,
	x, dst0, x0 []float32) {

	t.Helper()
	for i := range dst0 {
		want := addScaledWant(level, a, x0[i], dst0[i])
		if math.Float32bits(dst[i]) != math.Float32bits(want) {
			t.Fatalf("%s: element %d of %d: %g + %g·%g = %g (%#08x), want %g (%#08x)",
				what, i, len(dst), dst0[i], a, x0[i], dst[i], math.Float32bits(dst[i]),
				want, math.Float32bits(want))
		}
		if math.Float32bits(x[i]) != math.Float32bits(x0[i]) {
			t.Fatalf("%s: x[%d] changed from %g to %g", what, i, x0[i], x[i])
		}
	}
}

// TestAddScaledLengths runs AddScaled on every test length, with dst and x
// at offsets 0..15 into fenced buffers.
func TestAddScaledLengths(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	kerneltest.Run(t, func(t *testing.T, level asm.Level) {
		for _, n := range elementwiseLengths() {
			for _, off := range kerneltest.Offsets() {
				kind := addScaledKinds[(n+off)%len(addScaledKinds)]
				xOff := (off * 7) % 16
				dst, dstWhole := kerneltest.Fenced(n, off)
				x, xWhole := kerneltest.Fenced(n, xOff)
				a := scaleFor(rng, kind)
				dst0, x0 := fillAddScaled(rng, kind, a, dst, x)
				asm.AddScaled(dst, a, x)
				what := fmt.Sprintf("n=%d offsets %d,%d %s", n, off, xOff, kind)
				checkAddScaled(t, level, what, dst, a, x, dst0, x0)
				kerneltest.CheckFence(t, dstWhole, n, off)
				kerneltest.CheckFence(t, xWhole, n, xOff)
			}
		}
	})
}

// TestAddScaledGuardPages places dst and x flush against inaccessible
// pages, on opposite sides, so that any access outside them faults.
func TestAddScaledGuardPages(t *testing.T) {
	if !kerneltest.GuardPages {
		t.Log("no guard pages on this system; stray writes are still caught by fences")
	}
	rng := rand.New(rand.NewPCG(27, 28))
	kerneltest.Run(t, func(t *testing.T, level asm.Level) {
		kerneltest.SkipGuardsUnderEmulation(t, level)
		for n := 0; n <= 67; n++ {
			for _, back := range []bool{false, true} {
				dst := kerneltest.Floats(t, n, back)
				x := kerneltest.Floats(t, n, !back)
				a := scaleFor(rng, "normal")
				dst0, x0 := fillAddScaled(rng, "mixed", a, dst, x)
				asm.AddScaled(dst, a, x)
				what := fmt.Sprintf("n=%d dst back=%v", n, back)
				checkAddScaled(t, level, what, dst, a, x, dst0, x0)
			}
		}
	})
}

// TestAddScaledRounding checks the agreement that AddScaled documents
// against fusedExact, the exact value rounded once, for every element:
// the assembly levels give it bit for bit; the generic level's reference
// gives it too unless its float64 value lies halfway between two float32,
// and then differs from it by at most one float32 ulp. The halfway inputs
// make such differences happen, and the test counts them.
func TestAddScaledRounding(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	kerneltest.Run(t, func(t *testing.T, level asm.Level) {
		differ := 0
		for _, kind := range addScaledKinds {
			for range 20 {
				const n = 203
				a := scaleFor(rng, kind)
				dst, x := make([]float32, n), make([]float32, n)
				dst0, x0 := fillAddScaled(rng, kind, a, dst, x)
				asm.AddScaled(dst, a, x)
				for i, got := range dst {
					exact := fusedExact(a, x0[i], dst0[i])
					wide := math.FMA(float64(a), float64(x0[i]), float64(dst0[i]))
					reference := float32(wide)
					if reference != exact {
						differ++
						if !halfway32(wide) || math.Nextafter32(reference, exact) != exact {
							t.Fatalf("%s: %g + %g·%g: float64 rounding gives %g, one rounding %g",
								kind, dst0[i], a, x0[i], reference, exact)
						}
					}
					want := exact
					if level == asm.Generic {
						want = reference
					}
					if math.Float32bits(got) != math.Float32bits(want) {
						t.Fatalf("%s: %g + %g·%g = %g, want %g", kind, dst0[i], a, x0[i],
							got, want)
					}
				}
			}
		}
		if differ == 0 {
			t.Errorf("no input reached a case where the reference's second rounding matters")
		}
		t.Logf("the reference differs from one rounding by one ulp in %d results", differ)
	})
}

// TestAddScaledSameSlice checks that dst and x may be the same slice:
// x[i] += a·x[i].
func TestAddScaledSameSlice(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	kerneltest.Run(t, func(t *testing.T, level asm.Level) {
		for _, n := range []int{1, 15, 64, 100, 1000} {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			x0 := append([]float32(nil), x...)
			const a = 0.375
			asm.AddScaled(x, a, x)
			for i, got := range x {
				if want := addScaledWant(level, a, x0[i], x0[i]); got != want {
					t.Fatalf("n=%d: element %d = %g, want %g", n, i, got, want)
				}
			}
		}
	})
}

func TestAddScaledPanics(t *testing.T) {
	for _, lengths := range [][2]int{{3, 4}, {4, 3}, {0, 1}} {
		t.Run(fmt.Sprintf("dst=%d/x=%d", lengths[0], lengths[1]), func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("no panic")
				}
			}()
			asm.AddScaled(make([]float32, lengths[0]), 1, make([]float32, lengths[1]))
		})
	}
}

// TestElementwiseAllocations checks that Sqrt and AddScaled allocate
// nothing: the stubs do not let the slices escape.
func TestElementwiseAllocations(t *testing.T) {
	kerneltest.Run(t, func(t *testing.T, level asm.Level) {
		dst, x := make([]float32, 100), make([]float32, 100)
		for i := range x {
			x[i] = float32(i)
		}
		allocs := testing.AllocsPerRun(10, func() {
			asm.Sqrt(x)
			asm.AddScaled(dst, 0.5, x)
		})
		if allocs != 0 {
			t.Errorf("Sqrt and AddScaled allocate %v times per call at level %v", allocs, level)
		}
	})
}

// benchmarkElementwise times op on slices of n elements for each level
// and size, and reports elements per second.
func benchmarkElementwise(b *testing.B, op func(dst, x []float32, call int)) {
	kerneltest.Bench(b, func(b *testing.B) {
		for _, n := range []int{128, 4096, 1 << 20} {
			b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
				rng := rand.New(rand.NewPCG(5, uint64(n)))
				dst, x := make([]float32, n), make([]float32, n)
				for i := range x {
					dst[i], x[i] = 4*rng.Float32(), rng.Float32()-0.5
				}
				calls := 0
				for b.Loop() {
					op(dst, x, calls)
					calls++
				}
				b.ReportMetric(float64(n)*float64(calls)/b.Elapsed().Seconds()/1e9, "Gelem/s")
			})
		}
	})
}

// BenchmarkSqrt takes roots in place again and again; the values tend to
// 1 and stay normal floats.
func BenchmarkSqrt(b *testing.B) {
	benchmarkElementwise(b, func(dst, _ []float32, _ int) { asm.Sqrt(dst) })
}

// BenchmarkAddScaled alternates the sign of a so that dst stays bounded.
func BenchmarkAddScaled(b *testing.B) {
	benchmarkElementwise(b, func(dst, x []float32, call int) {
		a := float32(0.25)
		if call%2 == 1 {
			a = -a
		}
		asm.AddScaled(dst, a, x)
	})
}
