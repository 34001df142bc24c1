package asm

import "fmt"

// RowDots sets dst[i], for every i < len(dst), to the inner product of row
// i of a and row i of b, the sum over k < dim of a[i*lda+k]·b[i*ldb+k]:
// the rows of a start lda floats apart and those of b ldb apart, and with
// ldb = 0 every row of a meets the same row b. With b = a and ldb = lda it
// gives the squared norm of each row, with b a row of ones the sum of each
// row.
//
// Each level sums a row in an order of its own, fixed for the level:
// dst[i] depends on the two rows only, not on the other rows or on
// len(dst). The order is not InnerProducts's, so RowDots(a, a) and
// InnerProducts of a row with itself may differ in the last bits. Each
// result is within the float32 summation bound of the exact one. It
// takes O(len(dst)·dim) time and writes nothing else of dst.
//
// It panics if dim < 1, if lda < dim, if ldb is neither 0 nor at least
// dim, or if a or b is too short for len(dst) rows.
func RowDots(dst, a []float32, lda int, b []float32, ldb int, dim int) {
	n := len(dst)
	switch {
	case dim < 1:
		panic(fmt.Sprintf("asm: dim %d < 1", dim))
	case lda < dim:
		panic(fmt.Sprintf("asm: lda %d < dim %d", lda, dim))
	case ldb != 0 && ldb < dim:
		panic(fmt.Sprintf("asm: ldb %d is neither 0 nor at least dim %d", ldb, dim))
	case n == 0:
		return
	case !holdsRows(len(a), n, dim, lda):
		panic(fmt.Sprintf("asm: a has %d elements, too few for %d rows of %d floats %d apart",
			len(a), n, dim, lda))
	case ldb == 0 && len(b) < dim, ldb != 0 && !holdsRows(len(b), n, dim, ldb):
		panic(fmt.Sprintf("asm: b has %d elements, too few for %d rows of %d floats %d apart",
			len(b), n, dim, ldb))
	}

	rows := max(1, callWork/dim)
	for i0 := 0; i0 < n; i0 += rows {
		i1 := min(i0+rows, n)
		rowDotsChunk(dst[i0:i1], a[i0*lda:], lda, b[i0*ldb:], ldb, dim)
	}
}

// rowDotsGeneric is the reference for RowDots on one chunk:
//
//	for i := range dst {
//	    dst[i] = Σ_k a[i*lda+k]·b[i*ldb+k]
//	}
//
// summed in float32 in the order of k, without fused multiply-adds.
func rowDotsGeneric(dst, a []float32, lda int, b []float32, ldb int, dim int) {
	for i := range dst {
		ai, bi := a[i*lda:i*lda+dim], b[i*ldb:i*ldb+dim]
		var sum float32
		for k, x := range ai {
			sum += float32(x * bi[k])
		}
		dst[i] = sum
	}
}
