// Command distance writes the distance kernels of package asm: squared
// Euclidean distances and inner products between a block of query rows and
// a panel of reference rows, for AVX2 with FMA and for AVX-512.
//
// The Go code in package asm packs the reference rows into panels, one
// dimension after another, so that a vector holds one dimension of several
// reference rows. A kernel then broadcasts one value of a query row at a
// time against those vectors: each lane sums one pair, in the order of
// the dimensions, and no sum is ever reduced across lanes. Six query rows
// against up to 64 (AVX-512) or 16 (AVX2) reference rows stay in registers
// while the kernel runs along the dimension, so each loaded vector serves
// six rows and one call does a whole tile of work.
package main

import (
	. "github.com/mmcloughlin/avo/build"
)

const signature = "func(dst *float32, ldDst int, q *float32, ldQ int, nq int, " +
	"panel *float32, ldPanel int, vectors int, steps int, accumulate bool)"

func main() {
	// avo reads the old +build syntax, where a comma means "and": this is
	// "//go:build gc && !purego" in both files.
	ConstraintExpr("gc,!purego")

	for _, t := range []target{avx512{}, avx2{}} {
		for _, k := range []pairKind{squaredDistance, innerProduct} {
			name := k.prefix() + t.name()
			TEXT(name, NOSPLIT, signature)
			Pragma("noescape")
			Doc(name+" sets dst[i*ldDst+j], for the nq query rows of q (ldQ floats",
				"apart) and the columns j of the first vectors vectors of a panel, to",
				k.what()+",",
				"summed over steps dimensions: panel row k (ldPanel floats from the",
				"previous one) holds dimension k of every column, query row i's",
				"dimension k is q[i*ldQ+k]. With accumulate the sums start from dst's",
				"values instead of zero. It needs nq, steps >= 1 and vectors between 1",
				"and the level's widest block.")
			panelKernel(k, t)
		}
	}

	Generate()
}
