package asm_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/tripletmine/triplet/asm"
	"github.com/tripletmine/triplet/internal/kerneltest"
)

// anyBits fills s with floats from uniform random bits: NaNs with all
// kinds of payloads, infinities, subnormals and signed zeros among them,
// so that any arithmetic on the way, or a lost bit, would show. It never
// uses the fence pattern, which marks elements that must stay untouched.
func anyBits(rng *rand.Rand, s []float32) {
	fence := math.Float32bits(kerneltest.Fence)
	for i := range s {
		bits := rng.Uint32()
		for bits == fence {
			bits = rng.Uint32()
		}
		s[i] = math.Float32frombits(bits)
	}
}

// blockLen is how many elements a block of count rows of width floats,
// rows ld floats apart, spans: (count-1)·ld + width, or 0 if empty.
func blockLen(count, width, ld int) int {
	if count == 0 || width == 0 {
		return 0
	}
	return (count-1)*ld + width
}

// checkTranspose fails t unless dst holds the bits of src[i*ldSrc+j] at
// j*ldDst+i for every i < rows, j < cols, and the fence value everywhere
// else, and src still holds the bits of src0.
func checkTranspose(t *testing.T, what string, dst []float32, ldDst int,
	src, src0 []float32, ldSrc, rows, cols int) {

	t.Helper()
	fence := math.Float32bits(kerneltest.Fence)
	for k, v := range dst {
		j, i := k/ldDst, k%ldDst
		want := fence
		if i < rows && j < cols {
			want = math.Float32bits(src0[i*ldSrc+j])
		}
		if got := math.Float32bits(v); got != want {
			t.Fatalf("%s: dst[%d] (row %d, column %d) = %#08x, want %#08x",
				what, k, j, i, got, want)
		}
	}
	for k := range src {
		if math.Float32bits(src[k]) != math.Float32bits(src0[k]) {
			t.Fatalf("%s: src[%d] changed from %#08x to %#08x", what, k,
				math.Float32bits(src0[k]), math.Float32bits(src[k]))
		}
	}
}

// transposeCase transposes a rows×cols block with the given leading
// dimensions, src and dst at offsets into fenced buffers, and checks the
// result, the gaps between the destination rows and the fences.
func transposeCase(t *testing.T, rng *rand.Rand, rows, cols, ldSrc, ldDst, srcOff,
	dstOff int) {

	t.Helper()
	what := fmt.Sprintf("%d×%d, ldSrc %d, ldDst %d, offsets %d,%d",
		rows, cols, ldSrc, ldDst, srcOff, dstOff)
	src, srcWhole := kerneltest.Fenced(blockLen(rows, cols, ldSrc), srcOff)
	anyBits(rng, src)
	src0 := append([]float32(nil), src...)
	dstLen := blockLen(cols, rows, ldDst)
	dst, dstWhole := kerneltest.Fenced(dstLen, dstOff)

	asm.Transpose(dst, ldDst, src, ldSrc, rows, cols)

	checkTranspose(t, what, dst, max(ldDst, 1), src, src0, ldSrc, rows, cols)
	kerneltest.CheckFence(t, dstWhole, dstLen, dstOff)
	kerneltest.CheckFence(t, srcWhole, len(src), srcOff)
}

// TestTransposeShapes transposes every shape up to 40×40, crossing the
// 8- and 16-float blocks of the assembly levels in both directions, with
// leading dimensions equal to the block's and larger, whose gaps must
// stay untouched.
func TestTransposeShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	kerneltest.Run(t, func(t *testing.T, _ asm.Level) {
		for rows := 0; rows <= 40; rows++ {
			for cols := 0; cols <= 40; cols++ {
				gap := (rows*7 + cols*3) % 5
				transposeCase(t, rng, rows, cols, cols+gap, rows+(gap*2)%5, 0, 0)
			}
		}
	})
}

// TestTransposeLarge transposes blocks that span several calls of the
// kernels, inside wider matrices, and blocks that are rows or columns of
// a matrix.
func TestTransposeLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	shapes := []struct{ rows, cols, ldSrc, ldDst int }{
		{128, 128, 1000, 1000},
		{300, 77, 77, 300},
		{300, 77, 81, 310},
		{77, 300, 1000, 77},
		{129, 257, 257, 129},
		{1, 1000, 1000, 1},
		{1000, 1, 1, 1000},
		{1000, 1, 3, 1003},
		{256, 256, 256, 256},
	}
	kerneltest.Run(t, func(t *testing.T, _ asm.Level) {
		for _, s := range shapes {
			transposeCase(t, rng, s.rows, s.cols, s.ldSrc, s.ldDst, 3, 5)
		}
	})
}

// TestTransposeOffsets places src and dst at every offset 0..15 into
// their buffers, so that vectors start at every alignment.
func TestTransposeOffsets(t *testing.T) {
	rng := rand.New(rand.NewPCG(45, 46))
	shapes := [][2]int{{8, 8}, {16, 16}, {19, 35}, {35, 19}, {33, 17}, {5, 3}}
	kerneltest.Run(t, func(t *testing.T, _ asm.Level) {
		for _, s := range shapes {
			for _, off := range kerneltest.Offsets() {
				rows, cols := s[0], s[1]
				transposeCase(t, rng, rows, cols, cols+off%3, rows+1, off, (off*7)%16)
			}
		}
	})
}

// TestTransposeGuardPages places src and dst flush against inaccessible
// pages, on either side, so that any access outside the two blocks'
// extents faults: a whole vector loaded from the last, short source row,
// or stored into the last destination row, would.
func TestTransposeGuardPages(t *testing.T) {
	if !kerneltest.GuardPages {
		t.Log("no guard pages on this system; stray writes are still caught by fences")
	}
	rng := rand.New(rand.NewPCG(47, 48))
	sides := []int{1, 2, 7, 8, 9, 15, 16, 17, 23, 24, 31, 32, 33, 40}
	kerneltest.Run(t, func(t *testing.T, level asm.Level) {
		kerneltest.SkipGuardsUnderEmulation(t, level)
		for _, rows := range sides {
			for _, cols := range sides {
				for _, back := range []bool{false, true} {
					ldSrc, ldDst := cols+rows%3, rows
					src := kerneltest.Floats(t, blockLen(rows, cols, ldSrc), back)
					dst := kerneltest.Floats(t, blockLen(cols, rows, ldDst), !back)
					anyBits(rng, src)
					for k := range dst {
						dst[k] = kerneltest.Fence
					}
					src0 := append([]float32(nil), src...)
					asm.Transpose(dst, ldDst, src, ldSrc, rows, cols)
					what := fmt.Sprintf("%d×%d, src back=%v", rows, cols, back)
					checkTranspose(t, what, dst, ldDst, src, src0, ldSrc, rows, cols)
				}
			}
		}
	})
}

// TestTransposeMirror mirrors the upper tiles of a symmetric matrix into
// its lower tiles from several goroutines at once, as a pairwise distance
// computation does: the race detector must not see the tiles that one
// goroutine writes as touched by another, which catches annotations that
// cover the gaps between rows.
func TestTransposeMirror(t *testing.T) {
	rng := rand.New(rand.NewPCG(49, 50))
	const n, side = 200, 48
	kerneltest.Run(t, func(t *testing.T, _ asm.Level) {
		m := make([]float32, n*n)
		for i := range n {
			for j := i; j < n; j++ {
				m[i*n+j] = rng.Float32()
			}
		}

		var wg sync.WaitGroup
		for i0 := 0; i0 < n; i0 += side {
			for j0 := i0; j0 < n; j0 += side {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rows, cols := min(side, n-i0), min(side, n-j0)
					if i0 == j0 {
						// The diagonal tile mirrors itself through a copy.
						tile := make([]float32, rows*cols)
						for i := range rows {
							copy(tile[i*cols:(i+1)*cols], m[(i0+i)*n+j0:])
						}
						for i := range rows {
							for j := i + 1; j < cols; j++ {
								m[(j0+j)*n+i0+i] = tile[i*cols+j]
							}
						}
						return
					}
					asm.Transpose(m[j0*n+i0:], n, m[i0*n+j0:], n, rows, cols)
				}()
			}
		}
		wg.Wait()

		for i := range n {
			for j := range i {
				if m[i*n+j] != m[j*n+i] {
					t.Fatalf("m[%d][%d] = %g, m[%d][%d] = %g", i, j, m[i*n+j], j, i, m[j*n+i])
				}
			}
		}
	})
}

func TestTransposePanics(t *testing.T) {
	cases := []struct {
		name          string
		dstLen, ldDst int
		srcLen, ldSrc int
		rows, cols    int
	}{
		{"negative rows", 10, 4, 10, 4, -1, 2},
		{"negative cols", 10, 4, 10, 4, 2, -1},
		{"ldSrc below cols", 100, 10, 100, 4, 3, 5},
		{"ldDst below rows", 100, 2, 100, 10, 3, 5},
		{"negative ld of an empty block", 0, -1, 0, -1, 0, 0},
		{"short src", 100, 10, 4*10 + 5 - 1, 10, 5, 5},
		{"short dst", 4*10 + 5 - 1, 10, 100, 10, 5, 5},
		{"short src, one row", 100, 10, 4, 10, 1, 5},
		{"ldSrc overflows", 100, 10, 100, math.MaxInt / 2, 4, 5},
		{"ldDst overflows", 100, math.MaxInt/3 + 1, 100, 10, 5, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("no panic")
				}
			}()
			asm.Transpose(make([]float32, c.dstLen), c.ldDst, make([]float32, c.srcLen), c.ldSrc,
				c.rows, c.cols)
		})
	}
}

// TestTransposeEmpty checks that empty blocks need no elements at all.
func TestTransposeEmpty(t *testing.T) {
	asm.Transpose(nil, 0, nil, 0, 0, 0)
	asm.Transpose(nil, 5, nil, 0, 5, 0)
	asm.Transpose(nil, 0, nil, 5, 0, 5)
}

// TestTransposeAllocations checks that Transpose allocates nothing: the
// stubs do not let the slices escape.
func TestTransposeAllocations(t *testing.T) {
	if kerneltest.Race {
		t.Skip("the race detector allocates")
	}
	kerneltest.Run(t, func(t *testing.T, level asm.Level) {
		src, dst := make([]float32, 200*150), make([]float32, 150*200)
		allocs := testing.AllocsPerRun(10, func() {
			asm.Transpose(dst, 200, src, 150, 200, 150)
		})
		if allocs != 0 {
			t.Errorf("Transpose allocates %v times per call at level %v", allocs, level)
		}
	})
}

// BenchmarkTranspose mirrors a 128×128 tile of an n×n matrix (ld = n)
// into the mirrored position, as a pairwise distance computation does,
// and transposes a whole 1024×1024 matrix into another. It reports
// floats moved per second.
func BenchmarkTranspose(b *testing.B) {
	cases := []struct{ side, ld int }{{128, 1024}, {128, 4096}, {1024, 1024}}
	matrices := map[int][]float32{}
	for _, c := range cases {
		if matrices[c.ld] == nil {
			m := make([]float32, c.ld*c.ld)
			anyBits(rand.New(rand.NewPCG(9, uint64(c.ld))), m)
			matrices[c.ld] = m
		}
	}
	whole := make([]float32, 1024*1024)

	kerneltest.Bench(b, func(b *testing.B) {
		for _, c := range cases {
			b.Run(fmt.Sprintf("n=%d/ld=%d", c.side, c.ld), func(b *testing.B) {
				m := matrices[c.ld]
				src, dst := m[512:], m[512*c.ld:]
				if c.side == c.ld {
					src, dst = m, whole
				}
				calls := 0
				for b.Loop() {
					asm.Transpose(dst, c.ld, src, c.ld, c.side, c.side)
					calls++
				}
				elements := float64(c.side * c.side * calls)
				b.ReportMetric(elements/b.Elapsed().Seconds()/1e9, "Gelem/s")
			})
		}
	})
}
