// Command transpose writes the transpose kernels of package asm and their
// Go stubs, for AVX2 and for AVX-512: each copies a block of rows of a
// row-major matrix into the columns of another, which is how a tile of a
// symmetric distance matrix is mirrored across the diagonal.
//
// A kernel walks the source in bands of w columns (w = 8 for AVX2, 16 for
// AVX-512) and each band in blocks of w rows. A whole w×w block goes
// through w vector loads, a network of in-register shuffles and w vector
// stores. Blocks at the right and bottom edges, with fewer rows or columns,
// go through masked loads and stores instead, so a kernel handles any
// shape and touches no element outside the source block and the
// destination block. The Go wrapper in package asm splits large matrices
// into tiles, so that one call's work stays bounded.
package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"

	"github.com/tripletmine/triplet/gen/internal/masks"
)

// laneMasks is 16 words of all ones followed by 16 zero words: a load that
// starts count words before the zeros has its low count lanes set.
var laneMasks Mem

func main() {
	// avo reads the old +build syntax, where a comma means "and": this is
	// "//go:build gc && !purego" in both files.
	ConstraintExpr("gc,!purego")

	laneMasks = masks.Lanes()

	for _, t := range []target{&avx512{}, &avx2{}} {
		transposeKernel(t)
	}

	Generate()
}
