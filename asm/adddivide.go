package asm

import "fmt"

// AddDivide sets dst[i] = (a[i] + b[i]) / (2·d[i]) for every i, and
// dst[i] = +0 where d[i] is zero. It is the chain rule through a Euclidean
// distance: for a pair at distance d = √s, s being the squared distance,
// ∂d/∂s = 1/(2d), so a gradient with respect to the distance, symmetrised
// over the two orders of the pair (a[i] for one order, b[i] for the
// other), becomes a gradient with respect to the squared distance. The
// gradient at distance 0 is defined as 0, never NaN or Inf.
//
// Every level computes, in float32 and in this order, the sum a[i] + b[i],
// the denominator 2·d[i] and their quotient, each rounded once, so the
// levels agree bit for bit. d is meant to hold distances, finite and not
// negative, and a and b finite weights; within float32, a + b may still
// overflow to ±Inf, and 2·d overflows to +Inf for d > MaxFloat32/2 (the
// quotient is then ±0, or NaN if the sum overflowed too), and all levels
// give the same bits for these as well. A NaN d, which callers never
// pass, gives its own NaN at every level.
//
// dst may be the same slice as a, b or d but must not otherwise overlap
// them. It panics if the lengths differ. It takes O(len(dst)) time.
func AddDivide(dst, a, b, d []float32) {
	if len(a) != len(dst) || len(b) != len(dst) || len(d) != len(dst) {
		panic(fmt.Sprintf("asm: dst, a, b and d have %d, %d, %d and %d elements",
			len(dst), len(a), len(b), len(d)))
	}
	for i0 := 0; i0 < len(dst); i0 += elementwiseChunk {
		i1 := min(i0+elementwiseChunk, len(dst))
		addDivideChunk(dst[i0:i1], a[i0:i1], b[i0:i1], d[i0:i1])
	}
}

// addDivideGeneric is the reference for AddDivide on one chunk. Each
// operation is on float32 and rounds once; 2*d is exact unless it
// overflows to +Inf.
func addDivideGeneric(dst, a, b, d []float32) {
	for i := range dst {
		s := a[i] + b[i]
		if d[i] == 0 {
			dst[i] = 0
		} else {
			dst[i] = s / (2 * d[i])
		}
	}
}
