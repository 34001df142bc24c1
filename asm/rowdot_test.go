package asm_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tripletmine/triplet/asm"
	"github.com/tripletmine/triplet/internal/kerneltest"
)

// checkRowDots fails t unless dst holds the inner products of the rows of
// a and b within the float32 summation bound.
func checkRowDots(t *testing.T, dst, a []float32, lda int, b []float32, ldb, dim int) {
	t.Helper()
	for i := range dst {
		want, absSum := exactPair(false, a[i*lda:i*lda+dim], b[i*ldb:i*ldb+dim])
		if tol := distanceTolerance(dim, absSum); math.Abs(float64(dst[i])-want) > tol {
			t.Fatalf("dim %d, lda %d, ldb %d: row %d = %g, want %g ± %g",
				dim, lda, ldb, i, dst[i], want, tol)
		}
	}
}

func TestRowDotsAllDims(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	kerneltest.Run(t, func(t *testing.T, _ asm.Level) {
		for dim := 1; dim <= 200; dim++ {
			const n = 5
			a, b := make([]float32, n*dim), make([]float32, n*dim)
			rowValues(rng, valueKinds[dim%len(valueKinds)], a, b, dim)
			dst := make([]float32, n)
			asm.RowDots(dst, a, dim, b, dim, dim)
			checkRowDots(t, dst, a, dim, b, dim, dim)

			asm.RowDots(dst, a, dim, a, dim, dim)
			checkRowDots(t, dst, a, dim, a, dim, dim)
			for i, v := range dst {
				if v < 0 {
					t.Fatalf("dim %d: squared norm of row %d is %v", dim, i, v)
				}
			}
		}
	})
}

// TestRowDotsStrides runs rows with gaps between them, one shared row b,
// and outputs fenced on both sides, so that a read or write past a row
// or past dst shows.
func TestRowDotsStrides(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	kerneltest.Run(t, func(t *testing.T, _ asm.Level) {
		for _, dim := range []int{1, 7, 8, 15, 16, 17, 63, 64, 65, 100} {
			for n := 0; n <= 9; n++ {
				for _, ldb := range []int{0, dim, dim + 5} {
					lda := dim + 3
					a := make([]float32, max(0, (n-1)*lda+dim))
					b := make([]float32, max(dim, (n-1)*ldb+dim))
					rowValues(rng, "mixed", a, b, 1)
					dst, whole := kerneltest.Fenced(n, n%16)
					asm.RowDots(dst, a, lda, b, ldb, dim)
					checkRowDots(t, dst, a, lda, b, ldb, dim)
					kerneltest.CheckFence(t, whole, n, n%16)
				}
			}
		}
	})
}

// TestRowDotsRowFree checks that a row's result does not depend on the
// other rows or on how many there are.
func TestRowDotsRowFree(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	kerneltest.Run(t, func(t *testing.T, _ asm.Level) {
		for _, dim := range []int{3, 16, 77, 128} {
			const n = 9
			a, b := make([]float32, n*dim), make([]float32, n*dim)
			rowValues(rng, "normal", a, b, dim)
			all := make([]float32, n)
			asm.RowDots(all, a, dim, b, dim, dim)
			for i := range n {
				var one [1]float32
				asm.RowDots(one[:], a[i*dim:], dim, b[i*dim:], dim, dim)
				if math.Float32bits(one[0]) != math.Float32bits(all[i]) {
					t.Fatalf("dim %d: row %d is %v alone, %v among %d", dim, i, one[0], all[i], n)
				}
			}
		}
	})
}

func TestRowDotsGuardPages(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	kerneltest.Run(t, func(t *testing.T, level asm.Level) {
		kerneltest.SkipGuardsUnderEmulation(t, level)
		for _, dim := range []int{1, 5, 16, 19, 33, 64, 70} {
			for n := 1; n <= 4; n++ {
				for _, back := range []bool{false, true} {
					a := kerneltest.Floats(t, n*dim, back)
					b := kerneltest.Floats(t, n*dim, !back)
					dst := kerneltest.Floats(t, n, back)
					rowValues(rng, "normal", a, b, dim)
					asm.RowDots(dst, a, dim, b, dim, dim)
					checkRowDots(t, dst, a, dim, b, dim, dim)
				}
			}
		}
	})
}

func TestRowDotsPanics(t *testing.T) {
	cases := []struct {
		name            string
		dst, a, b       int
		lda, ldb, dimen int
	}{
		{"dim 0", 1, 4, 4, 2, 2, 0},
		{"lda below dim", 2, 8, 8, 3, 4, 4},
		{"ldb below dim", 2, 8, 8, 4, 3, 4},
		{"a too short", 2, 7, 8, 4, 4, 4},
		{"b too short", 2, 8, 7, 4, 4, 4},
		{"shared b too short", 2, 8, 3, 4, 0, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("no panic")
				}
			}()
			asm.RowDots(make([]float32, c.dst), make([]float32, c.a), c.lda,
				make([]float32, c.b), c.ldb, c.dimen)
		})
	}
}
