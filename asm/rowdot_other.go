//go:build !amd64 || !gc || purego

package asm

// rowDotsChunk runs RowDots on one chunk in Go.
func rowDotsChunk(dst, a []float32, lda int, b []float32, ldb int, dim int) {
	rowDotsGeneric(dst, a, lda, b, ldb, dim)
}
