package asm

import "fmt"

// transposeSide bounds the rows and the columns of the source that one
// call of a transpose kernel handles, so that one call moves at most
// transposeSide² floats (a few µs at the assembly levels): Go does not
// preempt assembly, and no call may hold off the garbage collector for
// long. A tile of this side also keeps what one call reads and writes
// within the level-2 cache.
const transposeSide = 128

// Transpose sets dst[j*ldDst+i] = src[i*ldSrc+j] for i < rows and j < cols:
// the rows×cols block of src, whose rows start ldSrc floats apart, becomes
// the cols×rows block of dst, whose rows start ldDst floats apart. It
// mirrors a tile of a symmetric distance matrix across the diagonal, so
// that only the tiles on one side need computing.
//
// It moves bits: every level copies each float unchanged, NaN payloads
// and signed zeros included. It writes nothing else of dst: the elements
// between the rows of the destination block keep their values. dst must
// not overlap src. It takes O(rows·cols) time.
//
// It panics if rows or cols is negative, if ldSrc < cols or ldDst < rows,
// or, when rows and cols are both positive, if src has fewer than
// (rows-1)·ldSrc + cols elements or dst fewer than (cols-1)·ldDst + rows.
func Transpose(dst []float32, ldDst int, src []float32, ldSrc int, rows, cols int) {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("asm: cannot transpose %d rows and %d columns", rows, cols))
	}
	if ldSrc < cols {
		panic(fmt.Sprintf("asm: ldSrc %d < %d columns", ldSrc, cols))
	}
	if ldDst < rows {
		panic(fmt.Sprintf("asm: ldDst %d < %d rows", ldDst, rows))
	}
	if rows == 0 || cols == 0 {
		return
	}
	if !holdsRows(len(src), rows, cols, ldSrc) {
		panic(fmt.Sprintf("asm: src has %d elements, too few for %d rows of %d floats %d apart",
			len(src), rows, cols, ldSrc))
	}
	if !holdsRows(len(dst), cols, rows, ldDst) {
		panic(fmt.Sprintf("asm: dst has %d elements, too few for %d rows of %d floats %d apart",
			len(dst), cols, rows, ldDst))
	}

	for i0 := 0; i0 < rows; i0 += transposeSide {
		i1 := min(i0+transposeSide, rows)
		for j0 := 0; j0 < cols; j0 += transposeSide {
			j1 := min(j0+transposeSide, cols)
			transposeTile(dst[j0*ldDst+i0:], ldDst, src[i0*ldSrc+j0:], ldSrc, i1-i0, j1-j0)
		}
	}
}

// holdsRows reports whether n elements hold count rows of width floats
// whose starts lie ld floats apart, that is (count-1)·ld + width <= n,
// without overflowing. count and width are at least 1, ld at least width.
func holdsRows(n, count, width, ld int) bool {
	if n < width {
		return false
	}
	return count == 1 || ld <= (n-width)/(count-1)
}

// transposeGeneric is the reference for Transpose on one tile:
//
//	for i := range rows {
//	    for j := range cols {
//	        dst[j*ldDst+i] = src[i*ldSrc+j]
//	    }
//	}
//
// It visits the elements in 8×8 blocks, so that the eight destination
// rows that a block writes stay in the cache between its source rows.
// Assigning a float32 copies its bits.
func transposeGeneric(dst []float32, ldDst int, src []float32, ldSrc int, rows, cols int) {
	const block = 8
	for i0 := 0; i0 < rows; i0 += block {
		for j0 := 0; j0 < cols; j0 += block {
			for i := i0; i < min(i0+block, rows); i++ {
				for j := j0; j < min(j0+block, cols); j++ {
					dst[j*ldDst+i] = src[i*ldSrc+j]
				}
			}
		}
	}
}
