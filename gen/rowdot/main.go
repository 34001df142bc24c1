// Command rowdot writes the row-by-row inner product kernels of package
// asm, for AVX2 with FMA and for AVX-512: dst[i] is row i of a times row
// i of b, or times one row b for every row of a. They give the squared
// norm of each row of a matrix, or the sum of each row of a block of
// distances, in one call, where the panel kernels of InnerProducts would
// fill a whole vector of columns for each single pair.
package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/tripletmine/triplet/gen/internal/masks"
)

const signature = "func(dst *float32, a *float32, lda int, b *float32, ldb int, n int, dim int)"

// unroll is the number of vectors, each with its own accumulator, that one
// round of the main loop multiplies, so that the additions into
// consecutive accumulators overlap.
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
		name := "rowDots" + t.name()
		TEXT(name, NOSPLIT, signature)
		Pragma("noescape")
		Doc(name+" sets dst[i], for the n rows i of a (lda floats apart), to the sum",
			"over k < dim of a[i*lda+k]·b[i*ldb+k], as rowDotsGeneric does. It needs",
			"n, dim >= 1; ldb may be 0.")
		rowDots(t)
	}

	Generate()
}

// target is what differs between the AVX2 and the AVX-512 kernels.
type target interface {
	name() string

	// lanes is the number of float32 in a vector register.
	lanes() int

	// vector allocates a vector register of the target's width; zero
	// clears one.
	vector() VecVirtual
	zero(v VecVirtual)

	// prepareTail readies loads of the low rest lanes of a vector, rest
	// being in [1, lanes); loadTail then loads them, zeroing the other
	// lanes, without touching memory past them.
	prepareTail(rest GPVirtual)
	loadTail(m Mem, v VecVirtual)

	// sum adds every lane of x into lane 0, overwriting x.
	sum(x VecVirtual)
}

// rowDots emits one kernel.
//
// Registers: for one row, acc[u] sums, lane by lane, the products of
// the u-th vector of every round of unroll vectors; x holds the vector of
// a that the next multiply-add takes, whose partner it reads from b in
// place. Lane l of acc[u] thus sums the columns k ≡ l (mod lanes) of its
// share of the row.
//
// Loop structure: rows one at a time; in a row, rounds of unroll vectors,
// then single vectors into acc[0], then the last dim % lanes floats as one
// masked vector into acc[1]. The accumulators then add up pairwise and
// their lanes into lane 0, which is stored. The mask of the last floats
// is the same for every row and is set up once.
func rowDots(t target) {
	dst := Load(Param("dst"), GP64())
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	lda, ldb := Load(Param("lda"), GP64()), Load(Param("ldb"), GP64())
	SHLQ(U8(2), lda)
	SHLQ(U8(2), ldb)
	rows := Load(Param("n"), GP64())
	dim := Load(Param("dim"), GP64())

	width := t.lanes()
	roundEnd, vectorEnd := GP64(), GP64()
	MOVQ(dim, roundEnd)
	SUBQ(U8(unroll*width), roundEnd)
	MOVQ(dim, vectorEnd)
	SUBQ(U8(width), vectorEnd)

	Comment("The mask of the last dim % lanes floats, if any.")
	rest := GP64()
	MOVQ(dim, rest)
	ANDQ(U8(width-1), rest)
	JZ(LabelRef("rows"))
	t.prepareTail(rest)

	Label("rows")
	acc := make([]VecVirtual, unroll)
	for u := range acc {
		acc[u] = t.vector()
		t.zero(acc[u])
	}
	x := t.vector()
	k := GP64()
	XORQ(k, k)

	Commentf("Rounds of %d vectors.", unroll)
	Label("round")
	CMPQ(k, roundEnd)
	JG(LabelRef("vector"))
	for u := range acc {
		VMOVUPS(Mem{Base: a, Index: k, Scale: 4, Disp: 4 * width * u}, x)
		VFMADD231PS(Mem{Base: b, Index: k, Scale: 4, Disp: 4 * width * u}, x, acc[u])
	}
	ADDQ(U8(unroll*width), k)
	JMP(LabelRef("round"))

	Comment("Single vectors.")
	Label("vector")
	CMPQ(k, vectorEnd)
	JG(LabelRef("tail"))
	VMOVUPS(Mem{Base: a, Index: k, Scale: 4}, x)
	VFMADD231PS(Mem{Base: b, Index: k, Scale: 4}, x, acc[0])
	ADDQ(U8(width), k)
	JMP(LabelRef("vector"))

	Comment("The last floats, the other lanes loaded as zero.")
	Label("tail")
	CMPQ(k, dim)
	JE(LabelRef("sum"))
	y := t.vector()
	t.loadTail(Mem{Base: a, Index: k, Scale: 4}, x)
	t.loadTail(Mem{Base: b, Index: k, Scale: 4}, y)
	VFMADD231PS(y, x, acc[1])

	Comment("Add the accumulators, then their lanes.")
	Label("sum")
	VADDPS(acc[1], acc[0], acc[0])
	VADDPS(acc[3], acc[2], acc[2])
	VADDPS(acc[2], acc[0], acc[0])
	t.sum(acc[0])
	VMOVSS(acc[0].AsX(), Mem{Base: dst})

	ADDQ(U8(4), dst)
	ADDQ(lda, a)
	ADDQ(ldb, b)
	DECQ(rows)
	JNZ(LabelRef("rows"))

	VZEROUPPER()
	RET()
}
