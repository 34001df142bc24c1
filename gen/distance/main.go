// Command distance writes the distance kernels of package asm: squared
// Euclidean distances and inner products between a block of query rows and
// a block of reference rows, for AVX2 with FMA and for AVX-512.
//
// Each kernel walks the query rows four at a time (then one at a time) and,
// for each group, the reference rows a few at a time, keeping one
// accumulator per (query, reference) pair in registers while it runs along
// the dimension. So each loaded vector serves several pairs, and one call
// does a whole tile of work.
package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"

	"github.com/tripletmine/triplet/gen/internal/masks"
)

const signature = "func(dst *float32, ldDst int, q *float32, nq int, r *float32, nr int, dim int)"

// laneMasks is 16 words of all ones followed by 16 zero words: a load that
// starts rest words before the zeros has its low rest lanes set.
var laneMasks Mem

func main() {
	ConstraintExpr("gc,!purego")

	laneMasks = masks.Lanes()

	for _, t := range []target{avx512{}, avx2{}} {
		for _, k := range []pairKind{squaredDistance, innerProduct} {
			name := k.prefix() + t.name()
			TEXT(name, NOSPLIT, signature)
			Pragma("noescape")
			Doc(name+" sets dst[i*ldDst+j], for the nq query rows of q and the nr",
				"reference rows of r (dim floats each, row-major), to "+k.what()+".",
				"It needs nq, nr, dim >= 1.")
			pairKernel(k, t)
		}
	}

	Generate()
}
