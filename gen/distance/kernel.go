package main

import (
	"fmt"

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
		return "the squared Euclidean distance between query row i and panel column j"
	}
	return "the inner product of query row i and panel column j"
}

// accumulate adds the term of dimension k for one query row and one
// vector of panel columns to acc: column holds r_k of each column; query
// is q_k, either in every lane of a register or as one float in memory
// that the instruction broadcasts itself (AVX-512). The squared distance
// squares the difference instead of expanding the product, so equal rows
// give exactly zero and no sum is negative.
func (k pairKind) accumulate(query Op, column, acc, diff VecVirtual) {
	q, inMemory := query.(Mem)
	switch {
	case k == innerProduct && inMemory:
		VFMADD231PS_BCST(q, column, acc)
	case k == innerProduct:
		VFMADD231PS(column, query, acc)
	case inMemory:
		VSUBPS_BCST(q, column, diff)
		VFMADD231PS(diff, diff, acc)
	default:
		VSUBPS(query, column, diff)
		VFMADD231PS(diff, diff, acc)
	}
}

// target is what differs between the AVX2 and the AVX-512 kernels.
type target interface {
	name() string

	// lanes is the number of float32 in a vector register.
	lanes() int

	// maxVectors is the widest block, in vectors of panel columns, that
	// maxRows query rows pair with in registers.
	maxVectors() int

	// vector allocates a vector register of the target's width.
	vector() VecVirtual

	// embedded reports whether the arithmetic reads a query value from
	// memory and broadcasts it itself. On Zen 4 a separate broadcast
	// competes with the subtractions for the same pipes.
	embedded() bool

	// begin emits what the kernel needs before its first block; zero
	// then clears a vector register.
	begin()
	zero(v VecVirtual)
}

// maxRows is the number of query rows a block holds: six rows of four
// ZMM vectors (AVX-512) or of two YMM vectors (AVX2) fill the registers
// with accumulators, the column vectors, a broadcast query value and a
// difference.
const maxRows = 6

// args holds the kernel's arguments in registers, the strides in bytes.
type args struct {
	dst, ldDst   GPVirtual
	q, ldQ       GPVirtual
	rowsLeft     GPVirtual
	panel, ldPan GPVirtual
}

// rowGroup addresses up to six rows that lie ld bytes apart: rows 0 to 2
// from base, rows 3 to 5 from base3 = base + 3·ld.
type rowGroup struct {
	base, base3, ld GPVirtual
}

func newRowGroup(base, ld GPVirtual) rowGroup {
	g := rowGroup{base: GP64(), base3: GP64(), ld: ld}
	MOVQ(base, g.base)
	LEAQ(Mem{Base: base, Index: ld, Scale: 2}, g.base3)
	ADDQ(ld, g.base3)
	return g
}

// at returns the address of row i, disp bytes in.
func (g rowGroup) at(i, disp int) Mem {
	base := g.base
	if i >= 3 {
		base, i = g.base3, i-3
	}
	if i == 0 {
		return Mem{Base: base, Disp: disp}
	}
	return Mem{Base: base, Index: g.ld, Scale: uint8(i), Disp: disp}
}

// panelKernel emits the body of one kernel. The reference rows arrive
// packed as a panel: for each dimension k, one row of ldPanel floats that
// holds r_k of every column, so a vector load brings one dimension of
// lanes() columns. No sum is ever reduced across lanes: lane c of an
// accumulator sums the terms of column c, one dimension after the other.
//
// Loop structure: query rows go in groups of six, then one group of the
// one to five left; each group pairs with the first vectors·lanes()
// columns of the panel as one block of accumulators, held in registers
// while the block walks the steps dimensions of the panel, and then
// stored. With accumulate set the block starts from the values already in
// dst instead of zero, so a caller can walk long rows in several panels.
func panelKernel(kind pairKind, t target) {
	a := args{
		dst: Load(Param("dst"), GP64()).(GPVirtual), ldDst: GP64(),
		q: Load(Param("q"), GP64()).(GPVirtual), ldQ: GP64(),
		rowsLeft: Load(Param("nq"), GP64()).(GPVirtual),
		panel:    Load(Param("panel"), GP64()).(GPVirtual), ldPan: GP64(),
	}
	for _, s := range []struct {
		name string
		reg  GPVirtual
	}{{"ldDst", a.ldDst}, {"ldQ", a.ldQ}, {"ldPanel", a.ldPan}} {
		Load(Param(s.name), s.reg)
		SHLQ(U8(2), s.reg)
	}

	t.begin()

	Commentf("Query rows %d at a time.", maxRows)
	Label("rowGroups")
	CMPQ(a.rowsLeft, U8(maxRows))
	JL(LabelRef("rest"))
	byVectors(kind, t, maxRows, a)
	for range maxRows {
		ADDQ(a.ldDst, a.dst)
		ADDQ(a.ldQ, a.q)
	}
	SUBQ(U8(maxRows), a.rowsLeft)
	JMP(LabelRef("rowGroups"))

	Commentf("Then the one to %d rows left, as one group.", maxRows-1)
	Label("rest")
	for rows := maxRows - 1; rows >= 1; rows-- {
		CMPQ(a.rowsLeft, U8(rows))
		JE(LabelRef(fmt.Sprintf("rows%d", rows)))
	}
	JMP(LabelRef("done"))
	for rows := maxRows - 1; rows >= 1; rows-- {
		Label(fmt.Sprintf("rows%d", rows))
		byVectors(kind, t, rows, a)
		JMP(LabelRef("done"))
	}

	Label("done")
	VZEROUPPER()
	RET()
}

// byVectors runs the block of rows query rows against as many vectors of
// columns as the kernel was asked for.
func byVectors(kind pairKind, t target, rows int, a args) {
	prefix := fmt.Sprintf("r%d", rows)
	for v := t.maxVectors(); v > 1; v-- {
		CMPQ(paramAddr("vectors"), U8(v))
		JE(LabelRef(fmt.Sprintf("%sv%d", prefix, v)))
	}
	for v := 1; v <= t.maxVectors(); v++ {
		label := fmt.Sprintf("%sv%d", prefix, v)
		Label(label)
		pairBlock(kind, t, rows, v, a, label)
		JMP(LabelRef(prefix + "end"))
	}
	Label(prefix + "end")
}

// pairBlock pairs rows query rows with vectors vectors of panel columns.
//
// Registers: acc[i][v] sums, lane by lane, query row i against the
// columns of vector v; column[v] holds the current dimension of the
// columns of vector v, loaded once per step and used by every row; a
// broadcast register (AVX2) holds the current value of one query row in
// every lane, which AVX-512 reads from memory instead; diff is the
// difference of the two for the squared distance.
func pairBlock(kind pairKind, t target, rows, vectors int, a args, label string) {
	acc := make([][]VecVirtual, rows)
	for i := range acc {
		acc[i] = make([]VecVirtual, vectors)
		for v := range acc[i] {
			acc[i][v] = t.vector()
		}
	}
	column := make([]VecVirtual, vectors)
	for v := range column {
		column[v] = t.vector()
	}
	diff := t.vector()
	width := 4 * t.lanes()

	out := newRowGroup(a.dst, a.ldDst)
	Comment("Start from zero, or from dst when accumulating.")
	accumulate := Load(Param("accumulate"), GP8())
	TESTB(accumulate, accumulate)
	JNZ(LabelRef(label + "load"))
	for i := range acc {
		for v := range acc[i] {
			t.zero(acc[i][v])
		}
	}
	JMP(LabelRef(label + "ready"))
	Label(label + "load")
	for i := range acc {
		for v := range acc[i] {
			VMOVUPS(out.at(i, v*width), acc[i][v])
		}
	}
	Label(label + "ready")

	in := newRowGroup(a.q, a.ldQ)
	pp := GP64()
	MOVQ(a.panel, pp)
	steps := Load(Param("steps"), GP64())

	Comment("One dimension per step: a row of the panel against each query value.")
	Label(label + "step")
	for v := range column {
		VMOVUPS(Mem{Base: pp, Disp: v * width}, column[v])
	}
	for i := range acc {
		var query Op = in.at(i, 0)
		if !t.embedded() {
			broadcast := t.vector()
			VBROADCASTSS(in.at(i, 0), broadcast)
			query = broadcast
		}
		for v := range column {
			kind.accumulate(query, column[v], acc[i][v], diff)
		}
	}
	ADDQ(U8(4), in.base)
	ADDQ(U8(4), in.base3)
	ADDQ(a.ldPan, pp)
	DECQ(steps)
	JNZ(LabelRef(label + "step"))

	Comment("Store the block.")
	for i := range acc {
		for v := range acc[i] {
			VMOVUPS(acc[i][v], out.at(i, v*width))
		}
	}
}

// paramAddr returns the stack address of the kernel's argument name, for
// instructions that read it in place.
func paramAddr(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}
