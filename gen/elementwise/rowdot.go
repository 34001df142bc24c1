package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// rowDotsKernel writes rowDots<level>, which sets dst[i] to the inner
// product of row i of a and row i of b, for n rows: the squared norm of
// each row of a matrix, or the sum of each row of a block of distances.
//
// Registers: aRow and bRow point at the start of the current rows, a and
// b walk along them; x holds a vector of a, whose partner the multiply-add
// reads from b in place. acc[u] sums, lane by lane, the products of
// vector u of every round; single vectors add into acc[0] and the masked
// tail into acc[1], so lane l sums the columns k ≡ l (mod lanes). At the
// end of a row the accumulators add in pairs, then their lanes into lane
// 0, which is stored.
//
// Loop: rows one at a time; along each row, vectorLoops' rounds of unroll
// vectors, single vectors, then the masked tail, whose zeroed lanes add
// nothing.
func rowDotsKernel(t target) {
	name := "rowDots" + t.name()
	TEXT(name, NOSPLIT, "func(dst *float32, a *float32, lda int, b *float32, ldb int, n int, dim int)")
	Pragma("noescape")
	Doc(
		name+" sets dst[i], for the n rows i of a (lda floats apart), to the",
		"sum over k < dim of a[i*lda+k]·b[i*ldb+k], as rowDotsGeneric does, in",
		"an order fixed for the level. It needs n, dim >= 1; ldb may be 0.",
	)

	dst := Load(Param("dst"), GP64()).(GPVirtual)
	aRow := Load(Param("a"), GP64()).(GPVirtual)
	bRow := Load(Param("b"), GP64()).(GPVirtual)
	lda := Load(Param("lda"), GP64()).(GPVirtual)
	ldb := Load(Param("ldb"), GP64()).(GPVirtual)
	SHLQ(U8(2), lda)
	SHLQ(U8(2), ldb)
	rows := Load(Param("n"), GP64()).(GPVirtual)
	acc := make([]VecVirtual, unroll)
	for u := range acc {
		acc[u] = t.vector()
	}
	x := t.vector()
	a, b, k := GP64(), GP64(), GP64()

	Label("row")
	for u := range acc {
		t.zero(acc[u])
	}
	MOVQ(aRow, a)
	MOVQ(bRow, b)
	Load(Param("dim"), k)
	vectorLoops(t, k, []GPVirtual{a, b},
		func(vectors int) {
			for u := range vectors {
				VMOVUPS(vectorAt(t, a, u), x)
				VFMADD231PS(vectorAt(t, b, u), x, acc[u])
			}
		},
		func() {
			y := t.vector()
			t.loadTail(Mem{Base: a}, x)
			t.loadTail(Mem{Base: b}, y)
			VFMADD231PS(y, x, acc[1])
		})

	Comment("Add the accumulators, then their lanes.")
	for step := 1; step < unroll; step *= 2 {
		for u := 0; u+step < unroll; u += 2 * step {
			VADDPS(acc[u+step], acc[u], acc[u])
		}
	}
	t.sum(acc[0])
	VMOVSS(acc[0].AsX(), Mem{Base: dst})

	ADDQ(U8(4), dst)
	ADDQ(lda, aRow)
	ADDQ(ldb, bRow)
	DECQ(rows)
	JNZ(LabelRef("row"))

	VZEROUPPER()
	RET()
}
