//go:build gc && !purego

package asm

// The assembly kernels take raw pointers: Sqrt and AddScaled have checked
// the lengths and split the slices, so each call gets at least one element.

// sqrtChunk runs Sqrt on one chunk of 1 to elementwiseChunk elements at
// the current level.
func sqrtChunk(x []float32) {
	switch Current() {
	case AVX512:
		raceWriteFloats(x)
		sqrtAVX512(&x[0], len(x))
	case AVX2:
		raceWriteFloats(x)
		sqrtAVX2(&x[0], len(x))
	default:
		sqrtGeneric(x)
	}
}

// addScaledChunk runs AddScaled on one chunk of 1 to elementwiseChunk
// elements at the current level.
func addScaledChunk(dst []float32, a float32, x []float32) {
	switch Current() {
	case AVX512:
		raceAddScaled(dst, x)
		addScaledAVX512(&dst[0], a, &x[0], len(x))
	case AVX2:
		raceAddScaled(dst, x)
		addScaledAVX2(&dst[0], a, &x[0], len(x))
	default:
		addScaledGeneric(dst, a, x)
	}
}

// raceAddScaled tells the race detector that AddScaled reads x and reads
// and writes dst.
func raceAddScaled(dst, x []float32) {
	raceReadFloats(x)
	raceWriteFloats(dst)
}

// addDivideChunk runs AddDivide on one chunk of 1 to elementwiseChunk
// elements at the current level.
func addDivideChunk(dst, a, b, d []float32) {
	switch Current() {
	case AVX512:
		raceAddDivide(dst, a, b, d)
		addDivideAVX512(&dst[0], &a[0], &b[0], &d[0], len(dst))
	case AVX2:
		raceAddDivide(dst, a, b, d)
		addDivideAVX2(&dst[0], &a[0], &b[0], &d[0], len(dst))
	default:
		addDivideGeneric(dst, a, b, d)
	}
}

// raceAddDivide tells the race detector that AddDivide reads a, b and d
// and writes dst.
func raceAddDivide(dst, a, b, d []float32) {
	raceReadFloats(a)
	raceReadFloats(b)
	raceReadFloats(d)
	raceWriteFloats(dst)
}
