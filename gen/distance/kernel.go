package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// pairKind is what a kernel computes for one query row q and one
// reference row r.
type pairKind int

const (
	squaredDistance pairKind = iota // Σ (q_k - r_k)²
	innerProduct                    // Σ q_k·r_k
)

func (k pairKind) prefix() string {
	if k == squaredDistance {
		return "sqDist"
	}
	return "dot"
}

func (k pairKind) what() string {
	if k == squaredDistance {
		return "the squared Euclidean distance between query row i and reference row j"
	}
	return "the inner product of query row i and reference row j"
}

// accumulate adds the contribution of one vector of query row q and one
// vector of reference row r to acc. The squared distance squares the
// difference instead of expanding the product, so equal rows give exactly
// zero and no sum is negative.
func (k pairKind) accumulate(q, r, acc, diff VecVirtual) {
	if k == innerProduct {
		VFMADD231PS(r, q, acc)
		return
	}
	VSUBPS(r, q, diff)
	VFMADD231PS(diff, diff, acc)
}

// target is what differs between the AVX2 and the AVX-512 kernels: the
// vector width, the shape of a register block, loads of the last partial
// vector of a row, and the reduction of accumulators into dst.
type target interface {
	name() string

	// lanes is the number of float32 in a vector register.
	lanes() int

	// blockCols is the number of reference rows that one block pairs with
	// qRows query rows (four or one).
	blockCols(qRows int) int

	// vector allocates a vector register of the target's width.
	vector() VecVirtual

	// zero clears a vector register.
	zero(v VecVirtual)

	// beginTail readies the loads of the last rest = dim % lanes floats of
	// the rows of a block, overwriting rest; loadTail then loads them,
	// zeroing the other lanes, without touching memory past them.
	beginTail(rest GPVirtual)
	loadTail(m Mem, v VecVirtual)

	// store sums each accumulator acc[i][j] across its lanes and writes it
	// to the row-i, column-j element of the block that out addresses.
	store(acc [][]VecVirtual, out block)
}

// block addresses an output block of dst: row i starts at base + i·ld
// bytes, and ld3 holds 3·ld.
type block struct {
	base, ld, ld3 GPVirtual
}

// row returns the address of element col of row i of the block.
func (b block) row(i, col int) Mem {
	switch i {
	case 0:
		return Mem{Base: b.base, Disp: 4 * col}
	case 3:
		return Mem{Base: b.base, Index: b.ld3, Scale: 1, Disp: 4 * col}
	}
	return Mem{Base: b.base, Index: b.ld, Scale: uint8(i), Disp: 4 * col}
}

// rows addresses up to four rows of floats that lie stride bytes apart,
// starting at base: a group of query rows or of reference rows.
type rows struct {
	base, stride, stride3 GPVirtual
}

func (r rows) at(i int) Mem {
	switch i {
	case 0:
		return Mem{Base: r.base}
	case 3:
		return Mem{Base: r.base, Index: r.stride3, Scale: 1}
	}
	return Mem{Base: r.base, Index: r.stride, Scale: uint8(i)}
}

// pairKernel emits the body of one kernel.
//
// Loop structure: query rows go in groups of four, then one at a time; for
// each group, reference rows go in groups of t.blockCols, then one at a
// time. A (query group, reference group) block keeps one accumulator per
// pair and walks the dimension a vector at a time, loading each query
// vector once per step and each reference vector once per step, then runs
// the last dim % lanes floats with masked loads, and finally reduces the
// accumulators into dst.
func pairKernel(kind pairKind, t target) {
	out := block{base: Load(Param("dst"), GP64()).(GPVirtual), ld: GP64(), ld3: GP64()}
	Load(Param("ldDst"), out.ld)
	SHLQ(U8(2), out.ld)
	LEAQ(Mem{Base: out.ld, Index: out.ld, Scale: 2}, out.ld3)

	query := rows{base: Load(Param("q"), GP64()).(GPVirtual), stride: GP64(), stride3: GP64()}
	Load(Param("dim"), query.stride)
	SHLQ(U8(2), query.stride)
	LEAQ(Mem{Base: query.stride, Index: query.stride, Scale: 2}, query.stride3)

	queryLeft := Load(Param("nq"), GP64())

	Comment("Query rows four at a time.")
	Label("queryGroups")
	CMPQ(queryLeft, U8(4))
	JL(LabelRef("querySingles"))
	referenceLoop(kind, t, 4, query, out)
	LEAQ(Mem{Base: query.base, Index: query.stride, Scale: 4}, query.base)
	LEAQ(Mem{Base: out.base, Index: out.ld, Scale: 4}, out.base)
	SUBQ(U8(4), queryLeft)
	JMP(LabelRef("queryGroups"))

	Comment("Then the remaining query rows one at a time.")
	Label("querySingles")
	TESTQ(queryLeft, queryLeft)
	JZ(LabelRef("done"))
	referenceLoop(kind, t, 1, query, out)
	ADDQ(query.stride, query.base)
	ADDQ(out.ld, out.base)
	DECQ(queryLeft)
	JMP(LabelRef("querySingles"))

	Label("done")
	VZEROUPPER()
	RET()
}

// referenceLoop pairs a group of qRows query rows with every reference row,
// t.blockCols reference rows at a time and then one at a time, writing
// the group's rows of dst.
func referenceLoop(kind pairKind, t target, qRows int, query rows, out block) {
	prefix := "q" + string(rune('0'+qRows))
	ref := rows{base: Load(Param("r"), GP64()).(GPVirtual), stride: query.stride,
		stride3: query.stride3}
	refLeft := Load(Param("nr"), GP64())
	col := block{base: GP64(), ld: out.ld, ld3: out.ld3}
	MOVQ(out.base, col.base)

	cols := t.blockCols(qRows)
	Commentf("%d query rows against %d reference rows at a time.", qRows, cols)
	Label(prefix + "refGroups")
	CMPQ(refLeft, U8(cols))
	JL(LabelRef(prefix + "refSingles"))
	pairBlock(kind, t, qRows, cols, query, ref, col)
	for range cols {
		ADDQ(ref.stride, ref.base)
	}
	ADDQ(U8(4*cols), col.base)
	SUBQ(U8(cols), refLeft)
	JMP(LabelRef(prefix + "refGroups"))

	Commentf("%d query rows against the remaining reference rows one at a time.", qRows)
	Label(prefix + "refSingles")
	TESTQ(refLeft, refLeft)
	JZ(LabelRef(prefix + "refDone"))
	pairBlock(kind, t, qRows, 1, query, ref, col)
	ADDQ(ref.stride, ref.base)
	ADDQ(U8(4), col.base)
	DECQ(refLeft)
	JMP(LabelRef(prefix + "refSingles"))

	Label(prefix + "refDone")
}

// pairBlock computes the qRows × cols block of pairs between the query rows
// at query.base and the reference rows at ref.base and stores it at out.
//
// Registers: acc[i][j] sums pair (query i, reference j) lane-wise; qv[i]
// holds the current vector of query row i; rv the current vector of one
// reference row, reused for every query row; diff the difference of the
// two for the squared distance.
func pairBlock(kind pairKind, t target, qRows, cols int, query, ref rows, out block) {
	label := "q" + string(rune('0'+qRows)) + "r" + string(rune('0'+cols))

	acc := make([][]VecVirtual, qRows)
	for i := range acc {
		acc[i] = make([]VecVirtual, cols)
		for j := range acc[i] {
			acc[i][j] = t.vector()
			t.zero(acc[i][j])
		}
	}
	qv := make([]VecVirtual, qRows)
	for i := range qv {
		qv[i] = t.vector()
	}
	rv, diff := t.vector(), t.vector()

	qp := rows{base: GP64(), stride: query.stride, stride3: query.stride3}
	rp := rows{base: GP64(), stride: ref.stride, stride3: ref.stride3}
	MOVQ(query.base, qp.base)
	MOVQ(ref.base, rp.base)
	steps := Load(Param("dim"), GP64())
	SHRQ(U8(log2(t.lanes())), steps)

	step := func(load func(m Mem, v VecVirtual)) {
		for i := range qv {
			load(qp.at(i), qv[i])
		}
		for j := range cols {
			load(rp.at(j), rv)
			for i := range qv {
				kind.accumulate(qv[i], rv, acc[i][j], diff)
			}
		}
	}

	Commentf("Whole vectors of %d floats along the dimension.", t.lanes())
	TESTQ(steps, steps)
	JZ(LabelRef(label + "tail"))
	Label(label + "steps")
	step(func(m Mem, v VecVirtual) { VMOVUPS(m, v) })
	ADDQ(U8(4*t.lanes()), qp.base)
	ADDQ(U8(4*t.lanes()), rp.base)
	DECQ(steps)
	JNZ(LabelRef(label + "steps"))

	Comment("The last dim % lanes floats, the other lanes loaded as zero.")
	Label(label + "tail")
	rest := Load(Param("dim"), GP64()).(GPVirtual)
	ANDQ(U8(t.lanes()-1), rest)
	JZ(LabelRef(label + "store"))
	t.beginTail(rest)
	step(t.loadTail)

	Label(label + "store")
	t.store(acc, out)
}

// pairLanes adds neighbouring lanes inside each 128-bit chunk: lanes
// (0,1) of a chunk of the result are x0+x1 and x2+x3 of that chunk of x,
// lanes (2,3) are y0+y1 and y2+y3.
func pairLanes(t target, x, y VecVirtual) VecVirtual {
	even, odd, sum := t.vector(), t.vector(), t.vector()
	VSHUFPS(U8(0x88), y, x, even)
	VSHUFPS(U8(0xdd), y, x, odd)
	VADDPS(odd, even, sum)
	return sum
}

func log2(n int) int {
	l := 0
	for n > 1 {
		n >>= 1
		l++
	}
	return l
}
