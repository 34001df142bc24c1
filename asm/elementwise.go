package asm

import (
	"fmt"
	"math"
)

// elementwiseChunk bounds the number of elements that one assembly call
// of Sqrt or AddScaled handles (about 10 µs at the AVX2 level), so that no
// call holds off the garbage collector for long.
const elementwiseChunk = 1 << 16

// Sqrt replaces every x[i] by its square root, in place: it turns a row of
// squared Euclidean distances into Euclidean distances. Each root is
// correctly rounded, so every level gives the same bits as
// float32(math.Sqrt(float64(x[i]))). Zeros keep their sign and +Inf stays
// +Inf. x[i] must not be negative: a negative value gives NaN, as in
// math.Sqrt, and callers never pass one. It takes O(len(x)) time.
func Sqrt(x []float32) {
	for i0 := 0; i0 < len(x); i0 += elementwiseChunk {
		sqrtChunk(x[i0:min(i0+elementwiseChunk, len(x))])
	}
}

// AddScaled adds a·x[i] to dst[i] for every i, in place: it accumulates a
// weighted contribution x, such as one triplet's gradient with respect to
// an embedding, into dst. dst and x may be the same slice but must not
// otherwise overlap. It panics if their lengths differ.
//
// The AVX2 and AVX-512 levels round a·x[i] + dst[i] once, from its exact
// value to float32 (a fused multiply-add). The generic level rounds it to
// float64 first and then to float32. Rounding to float64 never crosses a
// point halfway between two neighbouring float32, since float64 holds
// such points exactly, so both ways land on the same float32 unless the
// float64 value is itself such a halfway point; then the second rounding
// goes to the even neighbour while the first may have chosen the other.
// So the levels agree bit for bit, except in cases where the exact value
// lies within half a float64 ulp of a float32 halfway point, and there
// they differ by at most one float32 ulp.
func AddScaled(dst []float32, a float32, x []float32) {
	if len(dst) != len(x) {
		panic(fmt.Sprintf("asm: dst has %d elements but x has %d", len(dst), len(x)))
	}
	for i0 := 0; i0 < len(x); i0 += elementwiseChunk {
		i1 := min(i0+elementwiseChunk, len(x))
		addScaledChunk(dst[i0:i1], a, x[i0:i1])
	}
}

// sqrtGeneric is the reference for Sqrt on one chunk:
//
//	for i := range x {
//	    x[i] = float32(math.Sqrt(float64(x[i])))
//	}
//
// The float64 root, rounded to float32, is the correctly rounded float32
// root: float64 carries more than twice float32's 24 bits plus two, enough
// for a square root's second rounding to be harmless. VSQRTPS computes the
// same value.
func sqrtGeneric(x []float32) {
	for i, v := range x {
		x[i] = float32(math.Sqrt(float64(v)))
	}
}

// addScaledGeneric is the reference for AddScaled on one chunk:
//
//	for i := range dst {
//	    dst[i] = float32(math.FMA(float64(a), float64(x[i]), float64(dst[i])))
//	}
//
// The product of two float32 is exact in float64, so math.FMA only rounds
// the sum, once to float64; the conversion then rounds to float32. See
// AddScaled for how far this can be from one rounding.
func addScaledGeneric(dst []float32, a float32, x []float32) {
	for i, v := range x {
		dst[i] = float32(math.FMA(float64(a), float64(v), float64(dst[i])))
	}
}
