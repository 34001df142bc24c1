//go:build !amd64 || !gc || purego

package asm

// sqrtChunk runs Sqrt on one chunk in Go.
func sqrtChunk(x []float32) { sqrtGeneric(x) }

// addScaledChunk runs AddScaled on one chunk in Go.
func addScaledChunk(dst []float32, a float32, x []float32) {
	addScaledGeneric(dst, a, x)
}

// addDivideChunk runs AddDivide on one chunk in Go.
func addDivideChunk(dst, a, b, d []float32) { addDivideGeneric(dst, a, b, d) }
