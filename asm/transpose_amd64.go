//go:build gc && !purego

package asm

// The assembly kernels take raw pointers: Transpose has checked the
// shapes, and each call gets at least one row and one column.

// transposeTile runs Transpose on one tile of 1 to transposeSide rows and
// columns at the current level.
func transposeTile(dst []float32, ldDst int, src []float32, ldSrc int, rows, cols int) {
	switch Current() {
	case AVX512:
		raceTranspose(dst, ldDst, src, ldSrc, rows, cols)
		transposeAVX512(&dst[0], ldDst, &src[0], ldSrc, rows, cols)
	case AVX2:
		raceTranspose(dst, ldDst, src, ldSrc, rows, cols)
		transposeAVX2(&dst[0], ldDst, &src[0], ldSrc, rows, cols)
	default:
		transposeGeneric(dst, ldDst, src, ldSrc, rows, cols)
	}
}

// raceTranspose tells the race detector that a transpose reads the rows
// of the source block and writes the rows of the destination block, and
// touches nothing between them.
func raceTranspose(dst []float32, ldDst int, src []float32, ldSrc int, rows, cols int) {
	for i := range rows {
		raceReadFloats(src[i*ldSrc : i*ldSrc+cols])
	}
	for j := range cols {
		raceWriteFloats(dst[j*ldDst : j*ldDst+rows])
	}
}
