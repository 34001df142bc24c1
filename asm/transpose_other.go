//go:build !amd64 || !gc || purego

package asm

// transposeTile runs Transpose on one tile in Go.
func transposeTile(dst []float32, ldDst int, src []float32, ldSrc int, rows, cols int) {
	transposeGeneric(dst, ldDst, src, ldSrc, rows, cols)
}
