//go:build gc && !purego

package asm

// rowDotsChunk runs RowDots on one chunk of at least one row at the
// current level; RowDots has checked the shapes.
func rowDotsChunk(dst, a []float32, lda int, b []float32, ldb int, dim int) {
	level := Current()
	if level == Generic {
		rowDotsGeneric(dst, a, lda, b, ldb, dim)
		return
	}
	raceWriteFloats(dst)
	for i := range dst {
		raceReadFloats(a[i*lda : i*lda+dim])
		raceReadFloats(b[i*ldb : i*ldb+dim])
	}
	if level == AVX512 {
		rowDotsAVX512(&dst[0], &a[0], lda, &b[0], ldb, len(dst), dim)
		return
	}
	rowDotsAVX2(&dst[0], &a[0], lda, &b[0], ldb, len(dst), dim)
}
