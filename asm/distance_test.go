package asm_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tripletmine/triplet/asm"
	"github.com/tripletmine/triplet/internal/kerneltest"
)

// The error bound of the distance kernels. Each level sums dim rounded
// terms in float32, in some order; with u = 2⁻²⁴ the unit roundoff, a sum of
// n terms that were each rounded once or twice is within
// γ(n+2)·Σ|term| of the exact sum, where γ(m) = m·u / (1 - m·u) (Higham,
// Accuracy and Stability of Numerical Algorithms, §3.1 and §4.2). Terms
// in the subnormal range lose up to 2⁻¹⁵⁰ each to underflow instead, which
// the absolute part covers. The exact sum is taken in float64, where every
// product of two float32 is exact.
func distanceTolerance(dim int, absSum float64) float64 {
	const u = 0x1p-24
	m := float64(dim + 2)
	return m*u/(1-m*u)*absSum + m*0x1p-149
}

// exactPair returns the float64 value of what a kernel computes for one
// pair of rows, and the sum of the magnitudes of its terms.
func exactPair(sq bool, q, r []float32) (value, absSum float64) {
	for k := range q {
		if sq {
			d := float64(q[k]) - float64(r[k])
			value += d * d
		} else {
			value += float64(q[k]) * float64(r[k])
			absSum += math.Abs(float64(q[k]) * float64(r[k]))
		}
	}
	if sq {
		absSum = value
	}
	return value, absSum
}

// runPairs computes dst with SquaredDistances or InnerProducts.
func runPairs(sq bool, dst []float32, ldDst int, q, r []float32, dim int) {
	if sq {
		asm.SquaredDistances(dst, ldDst, q, r, dim)
	} else {
		asm.InnerProducts(dst, ldDst, q, r, dim)
	}
}

// checkPairs fails t unless dst holds the pairs of q and r within the
// error bound; a squared distance between identical rows must be exactly 0.
func checkPairs(t *testing.T, sq bool, dst []float32, ldDst int, q, r []float32, dim int) {
	t.Helper()
	nq, nr := len(q)/dim, len(r)/dim
	for i := range nq {
		qi := q[i*dim : (i+1)*dim]
		for j := range nr {
			rj := r[j*dim : (j+1)*dim]
			want, absSum := exactPair(sq, qi, rj)
			got := float64(dst[i*ldDst+j])
			if sq && want == 0 && got != 0 {
				t.Fatalf("dim %d, %dx%d: pair (%d,%d) of identical rows = %g, want exactly 0",
					dim, nq, nr, i, j, got)
			}
			if sq && got < 0 {
				t.Fatalf("dim %d: pair (%d,%d) = %g is negative", dim, i, j, got)
			}
			if tol := distanceTolerance(dim, absSum); math.Abs(got-want) > tol {
				t.Fatalf("dim %d, %dx%d: pair (%d,%d) = %g, want %g ± %g",
					dim, nq, nr, i, j, got, want, tol)
			}
		}
	}
}

// rowValues fills rows with values of the given kind, and copies some
// query rows into the reference rows so that identical pairs occur.
func rowValues(rng *rand.Rand, kind string, q, r []float32, dim int) {
	for _, s := range [][]float32{q, r} {
		for k := range s {
			s[k] = valueOf(rng, kind)
		}
	}
	for j := 0; j*dim < len(r) && j*dim < len(q); j += 3 {
		copy(r[j*dim:(j+1)*dim], q[j*dim:(j+1)*dim])
	}
}

// valueOf draws one float of a kind: "normal" values around 1, "ties" from
// three values, "huge" up to 1e17 (whose squares still fit in float32 after
// summing 130 of them), "tiny" down to subnormal squares, "mixed" all of
// these.
func valueOf(rng *rand.Rand, kind string) float32 {
	if kind == "mixed" {
		kind = []string{"normal", "ties", "huge", "tiny"}[rng.IntN(4)]
	}
	sign := float32(1)
	if rng.IntN(2) == 0 {
		sign = -1
	}
	switch kind {
	case "ties":
		return float32(rng.IntN(3)) * 0.5
	case "huge":
		return sign * float32(math.Pow(10, 14+3*rng.Float64()))
	case "tiny":
		return sign * float32(math.Pow(10, -25+7*rng.Float64()))
	}
	return float32(rng.NormFloat64())
}

var valueKinds = []string{"normal", "ties", "huge", "tiny", "mixed"}

func TestPairsAllDims(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	kerneltest.Run(t, func(t *testing.T, _ asm.Level) {
		for _, sq := range []bool{true, false} {
			for dim := 1; dim <= 130; dim++ {
				kind := valueKinds[dim%len(valueKinds)]
				nq, nr := 6, 7
				q, r := make([]float32, nq*dim), make([]float32, nr*dim)
				rowValues(rng, kind, q, r, dim)
				dst := make([]float32, nq*nr)
				runPairs(sq, dst, nr, q, r, dim)
				checkPairs(t, sq, dst, nr, q, r, dim)
			}
		}
	})
}

func TestPairsAllRowCounts(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	kerneltest.Run(t, func(t *testing.T, _ asm.Level) {
		for _, sq := range []bool{true, false} {
			for _, dim := range []int{1, 7, 16, 17, 40} {
				for n := 0; n <= 67; n++ {
					for _, m := range []int{n, 67 - n, 5} {
						kind := valueKinds[(n+m)%len(valueKinds)]
						q, r := make([]float32, n*dim), make([]float32, m*dim)
						rowValues(rng, kind, q, r, dim)
						ld := m + 3
						dst, whole := kerneltest.Fenced(max(0, n*ld-3), 0)
						runPairs(sq, dst, ld, q, r, dim)
						checkPairs(t, sq, dst, ld, q, r, dim)
						checkGaps(t, dst, n, m, ld)
						kerneltest.CheckFence(t, whole, len(dst), 0)
					}
				}
			}
		}
	})
}

// checkGaps fails t if the kernels wrote into the columns of dst between
// the end of one row and the start of the next.
func checkGaps(t *testing.T, dst []float32, n, m, ld int) {
	t.Helper()
	for i := range n {
		for j := m; j < ld && i*ld+j < len(dst); j++ {
			if math.Float32bits(dst[i*ld+j]) != math.Float32bits(kerneltest.Fence) {
				t.Fatalf("%dx%d with ldDst %d: gap element (%d,%d) was written", n, m, ld, i, j)
			}
		}
	}
}

func TestPairsLargeShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	shapes := [][3]int{{256, 300, 128}, {67, 1030, 513}, {9, 5000, 64}, {1, 3, 2048}}
	kerneltest.Run(t, func(t *testing.T, _ asm.Level) {
		for _, sq := range []bool{true, false} {
			for _, s := range shapes {
				nq, nr, dim := s[0], s[1], s[2]
				q, r := make([]float32, nq*dim), make([]float32, nr*dim)
				rowValues(rng, "normal", q, r, dim)
				dst := make([]float32, nq*nr)
				runPairs(sq, dst, nr, q, r, dim)
				checkPairs(t, sq, dst, nr, q, r, dim)
			}
		}
	})
}

func TestPairsOffsets(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	kerneltest.Run(t, func(t *testing.T, _ asm.Level) {
		for _, sq := range []bool{true, false} {
			for _, dim := range []int{3, 16, 21, 35} {
				for _, off := range kerneltest.Offsets() {
					nq, nr := 5, 9
					q, _ := kerneltest.Fenced(nq*dim, off)
					r, _ := kerneltest.Fenced(nr*dim, (off*7)%16)
					rowValues(rng, "mixed", q, r, dim)
					dst, whole := kerneltest.Fenced(nq*nr, (off*3)%16)
					runPairs(sq, dst, nr, q, r, dim)
					checkPairs(t, sq, dst, nr, q, r, dim)
					kerneltest.CheckFence(t, whole, len(dst), (off*3)%16)
				}
			}
		}
	})
}

// TestPairsGuardPages places every input and output flush against an
// inaccessible page, on either side, so that any access outside the slices
// faults.
func TestPairsGuardPages(t *testing.T) {
	if !kerneltest.GuardPages {
		t.Log("no guard pages on this system; stray writes are still caught by fences")
	}
	rng := rand.New(rand.NewPCG(9, 10))
	kerneltest.Run(t, func(t *testing.T, level asm.Level) {
		kerneltest.SkipGuardsUnderEmulation(t, level)
		for _, sq := range []bool{true, false} {
			for _, dim := range []int{1, 5, 16, 19, 33} {
				for n := 1; n <= 9; n++ {
					for _, back := range []bool{false, true} {
						m := 10 - n
						q := kerneltest.Floats(t, n*dim, back)
						r := kerneltest.Floats(t, m*dim, !back)
						dst := kerneltest.Floats(t, n*m, back)
						rowValues(rng, "normal", q, r, dim)
						runPairs(sq, dst, m, q, r, dim)
						checkPairs(t, sq, dst, m, q, r, dim)
					}
				}
			}
		}
	})
}

// TestPairsPositionFree checks that a pair's value does not depend on where
// it sits: a batch against itself is symmetric bit for bit, and every
// sub-block computed on its own matches the whole matrix.
func TestPairsPositionFree(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const n = 11
	var blocks [][4]int
	for i0 := 0; i0 < n; i0 += 3 {
		for j0 := 0; j0 < n; j0 += 2 {
			blocks = append(blocks, [4]int{i0, n, j0, n})
		}
	}
	kerneltest.Run(t, func(t *testing.T, _ asm.Level) {
		for _, sq := range []bool{true, false} {
			for _, dim := range []int{1, 9, 16, 31, 64, 100} {
				e := make([]float32, n*dim)
				rowValues(rng, "normal", e, nil, dim)
				whole := make([]float32, n*n)
				runPairs(sq, whole, n, e, e, dim)
				checkSymmetric(t, whole, n, dim)
				checkBlocks(t, sq, whole, n, e, dim, blocks)
			}
		}
	})
}

// TestPairsPositionFreeLongRows repeats TestPairsPositionFree with rows
// longer than one panel holds and with more references than one panel,
// so that sums carried from one panel to the next and the columns of a
// partial last vector meet the whole matrix too.
func TestPairsPositionFreeLongRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	const n = 70
	blocks := [][4]int{{0, 70, 0, 70}, {5, 12, 3, 67}, {13, 14, 64, 70}, {69, 70, 0, 1},
		{1, 60, 60, 61}, {0, 7, 17, 33}}
	kerneltest.Run(t, func(t *testing.T, _ asm.Level) {
		for _, sq := range []bool{true, false} {
			for _, dim := range []int{300, 1100} {
				e := make([]float32, n*dim)
				rowValues(rng, "normal", e, nil, dim)
				whole := make([]float32, n*n)
				runPairs(sq, whole, n, e, e, dim)
				checkPairs(t, sq, whole, n, e, e, dim)
				if sq {
					checkSymmetric(t, whole, n, dim)
				}
				checkBlocks(t, sq, whole, n, e, dim, blocks)
			}
		}
	})
}

// checkSymmetric fails t unless the n×n matrix whole equals its transpose
// bit for bit.
func checkSymmetric(t *testing.T, whole []float32, n, dim int) {
	t.Helper()
	for i := range n {
		for j := range n {
			if math.Float32bits(whole[i*n+j]) != math.Float32bits(whole[j*n+i]) {
				t.Fatalf("dim %d: d(%d,%d) = %v but d(%d,%d) = %v",
					dim, i, j, whole[i*n+j], j, i, whole[j*n+i])
			}
		}
	}
}

// checkBlocks computes each block {i0, i1, j0, j1} of the pairs of the n
// rows of e on its own and fails t unless every pair has the bits it has
// in whole, the matrix of all of them.
func checkBlocks(t *testing.T, sq bool, whole []float32, n int, e []float32, dim int,
	blocks [][4]int) {

	t.Helper()
	for _, b := range blocks {
		i0, i1, j0, j1 := b[0], b[1], b[2], b[3]
		part := make([]float32, (i1-i0)*(j1-j0))
		runPairs(sq, part, j1-j0, e[i0*dim:i1*dim], e[j0*dim:j1*dim], dim)
		for i := i0; i < i1; i++ {
			for j := j0; j < j1; j++ {
				got, want := part[(i-i0)*(j1-j0)+j-j0], whole[i*n+j]
				if math.Float32bits(got) != math.Float32bits(want) {
					t.Fatalf("dim %d: pair (%d,%d) is %v in block %v, %v in the whole",
						dim, i, j, got, b, want)
				}
			}
		}
	}
}

func TestPairsPanics(t *testing.T) {
	cases := []struct {
		name       string
		dst, q, r  int
		ldDst, dim int
	}{
		{"dim 0", 4, 2, 2, 1, 0},
		{"q not a multiple of dim", 4, 3, 2, 2, 2},
		{"r not a multiple of dim", 4, 2, 3, 2, 2},
		{"ldDst too small", 4, 4, 4, 1, 2},
		{"dst too short", 3, 4, 4, 2, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("no panic")
				}
			}()
			asm.SquaredDistances(make([]float32, c.dst), c.ldDst,
				make([]float32, c.q), make([]float32, c.r), c.dim)
		})
	}
}

func BenchmarkSquaredDistances(b *testing.B) { benchmarkPairs(b, true) }

func BenchmarkInnerProducts(b *testing.B) { benchmarkPairs(b, false) }

// benchmarkPairs times n query rows against n reference rows and reports
// 2·n²·d flops per call, a multiply-add counting as two.
func benchmarkPairs(b *testing.B, sq bool) {
	kerneltest.Bench(b, func(b *testing.B) {
		for _, n := range []int{64, 256, 1024} {
			for _, dim := range []int{16, 128, 512} {
				b.Run(fmt.Sprintf("n=%d/d=%d", n, dim), func(b *testing.B) {
					rng := rand.New(rand.NewPCG(1, 1))
					q, r := make([]float32, n*dim), make([]float32, n*dim)
					rowValues(rng, "normal", q, r, dim)
					dst := make([]float32, n*n)
					for b.Loop() {
						runPairs(sq, dst, n, q, r, dim)
					}
					flops := 2 * float64(n) * float64(n) * float64(dim)
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	})
}
