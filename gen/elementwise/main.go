// Command elementwise writes the elementwise kernels of package asm and
// their Go stubs, for AVX2 with FMA and for AVX-512:
//
//	sqrt       x[i] = √x[i], in place: squared distances into distances
//	addScaled  dst[i] += a·x[i] with one rounding: accumulating a gradient
//	addDivide  dst[i] = (a[i] + b[i]) / (2·d[i]), +0 where d[i] == 0: the
//	           chain rule through a Euclidean distance, for a symmetrised
//	           gradient weight
//	rowDots    dst[i] = Σ_k a[i·lda+k]·b[i·ldb+k], row by row: the squared
//	           norm of each row, or the sum of each row of distances
//
// Each call handles one chunk of at most 65536 elements, or of rows of
// that much work (the Go wrappers in package asm split longer slices), and
// touches no memory outside it: the last partial vector of a row is loaded
// and stored with masks. The plain Go references next to those wrappers
// are the specification.
package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"

	"github.com/tripletmine/triplet/gen/internal/masks"
)

// unroll is how many vectors one round of a kernel's main loop handles.
// The vectors are independent, so their square roots or multiply-adds
// overlap in the pipeline, and the loop's own overhead is paid once per
// round.
const unroll = 4

// laneMasks is 16 words of all ones followed by 16 zero words: a load that
// starts rest words before the zeros has its low rest lanes set.
var laneMasks Mem

func main() {
	// avo reads the old +build syntax, where a comma means "and": this is
	// "//go:build gc && !purego" in both files.
	ConstraintExpr("gc,!purego")

	laneMasks = masks.Lanes()

	for _, t := range []target{&avx512{}, &avx2{}} {
		sqrtKernel(t)
		addScaledKernel(t)
		rowDotsKernel(t)
	}
	for _, t := range []divideTarget{&avx512{}, &avx2{}} {
		addDivideKernel(t)
	}

	Generate()
}
