package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// target is what differs between the AVX2 and the AVX-512 kernels: the
// side of a block, the shuffle network that transposes it, and the masked
// loads and stores of edge blocks.
type target interface {
	name() string

	// lanes is the number of float32 in a vector register, which is also
	// the number of rows and of columns of a whole block.
	lanes() int

	// vector allocates a vector register of the target's width.
	vector() VecVirtual

	// transpose takes the rows of a block, register i holding source row
	// i in its lanes, and returns its columns: register j of the result
	// holds source column j, with row i in lane i. It consumes rows.
	transpose(rows []VecVirtual) []VecVirtual

	// beginEdge readies the masked accesses of an edge block of rowCount
	// source rows and colCount source columns, each 1 to lanes. loadEdge
	// then reads the first colCount floats of a source row into the low
	// lanes of v and zeroes the others; storeEdge writes the low rowCount
	// lanes of v into a destination row. Neither touches memory past
	// those floats.
	beginEdge(rowCount, colCount GPVirtual)
	loadEdge(m Mem, v VecVirtual)
	storeEdge(v VecVirtual, m Mem)
}

// rowsAt addresses rows of floats that lie ld bytes apart, starting at
// base; ld3 holds 3·ld.
type rowsAt struct {
	base, ld, ld3 GPVirtual
}

// matrixParam loads the pointer and the leading dimension of a matrix
// argument, turning the leading dimension from floats into bytes.
func matrixParam(pointer, ld string) rowsAt {
	m := rowsAt{base: GP64(), ld: GP64(), ld3: GP64()}
	Load(Param(pointer), m.base)
	Load(Param(ld), m.ld)
	SHLQ(U8(2), m.ld)
	LEAQ(Mem{Base: m.ld, Index: m.ld, Scale: 2}, m.ld3)
	return m
}

// from returns the same rows, starting at base instead.
func (r rowsAt) from(base GPVirtual) rowsAt {
	return rowsAt{base: base, ld: r.ld, ld3: r.ld3}
}

// forRows calls access(i, m) for rows i = 0 .. count-1 of r, in order, m
// addressing the first float of row i. It walks a copy of r.base down
// four rows at a time, so access may jump out of the sequence.
func forRows(r rowsAt, count int, access func(i int, m Mem)) {
	p := GP64()
	MOVQ(r.base, p)
	for i := range count {
		if i > 0 && i%4 == 0 {
			LEAQ(Mem{Base: p, Index: r.ld, Scale: 4}, p)
		}
		m := Mem{Base: p}
		switch i % 4 {
		case 1, 2:
			m = Mem{Base: p, Index: r.ld, Scale: uint8(i % 4)}
		case 3:
			m = Mem{Base: p, Index: r.ld3, Scale: 1}
		}
		access(i, m)
	}
}

// down moves a pointer into a matrix with rows r.ld bytes apart down by
// rows rows, a multiple of 8.
func (r rowsAt) down(p GPVirtual, rows int) {
	for range rows / 8 {
		LEAQ(Mem{Base: p, Index: r.ld, Scale: 8}, p)
	}
}

// transposeKernel writes transpose<level>, which copies the rows×cols
// block of src into the cols×rows block of dst, source row i becoming
// destination column i.
//
// Registers: src and dst address the current band: w source columns from
// src down, which are the w destination rows from dst on (w is the vector
// width). Inside a band, a block's w source rows are loaded into w
// vectors, one row each, and its w destination rows are stored from the w
// vectors that the target's network returns, one source column each.
//
// Loop: bands of w whole source columns; in each, blocks of w whole rows
// down the band, then one edge block of the last rows % w rows. Then, if
// cols % w > 0, one last band of edge blocks.
//
// Why bands: when ldDst is a multiple of 1024 floats, as in a 1024×1024
// or 4096×4096 distance matrix, every destination row falls into the
// same set of the level-1 cache at a given column. Along a strip of
// source rows, all the blocks store into one such set, and the stores in
// flight keep evicting each other's lines; down a band, each block moves
// on to the next set. On the 128×128 tiles of such matrices, bands ran
// more than twice as fast as strips.
func transposeKernel(t target) {
	w := t.lanes()
	name := "transpose" + t.name()
	TEXT(name, NOSPLIT, "func(dst *float32, ldDst int, src *float32, ldSrc int, rows, cols int)")
	Pragma("noescape")
	Doc(
		name+" sets dst[j*ldDst+i] = src[i*ldSrc+j] for i < rows and j < cols,",
		fmt.Sprintf("as transposeGeneric does, in blocks of %d×%d floats. It handles any", w, w),
		"rows, cols >= 1 and touches no other element of src or dst.",
	)

	dst := matrixParam("dst", "ldDst")
	src := matrixParam("src", "ldSrc")
	colsLeft := Load(Param("cols"), GP64()).(GPVirtual)

	Commentf("Bands of %d whole source columns.", w)
	Label("bands")
	CMPQ(colsLeft, U8(w))
	JB(LabelRef("lastBand"))
	fullBand(t, dst, src)
	ADDQ(U32(4*w), src.base)
	dst.down(dst.base, w)
	SUBQ(U8(w), colsLeft)
	JMP(LabelRef("bands"))

	Commentf("Then the last cols %% %d source columns, in edge blocks.", w)
	Label("lastBand")
	TESTQ(colsLeft, colsLeft)
	JZ(LabelRef("done"))
	lastBand(t, dst, src, colsLeft)

	Label("done")
	VZEROUPPER()
	RET()
}

// fullBand transposes a band of w source columns: whole blocks down it,
// then an edge block for the last rows % w rows.
func fullBand(t target, dst, src rowsAt) {
	w := t.lanes()
	srcBlock, dstBlock := GP64(), GP64()
	MOVQ(src.base, srcBlock)
	MOVQ(dst.base, dstBlock)
	rowsLeft := Load(Param("rows"), GP64()).(GPVirtual)

	Commentf("Whole %d×%d blocks.", w, w)
	Label("blocks")
	CMPQ(rowsLeft, U8(w))
	JB(LabelRef("rowEdge"))
	wholeBlock(t, dst.from(dstBlock), src.from(srcBlock))
	src.down(srcBlock, w)
	ADDQ(U32(4*w), dstBlock)
	SUBQ(U8(w), rowsLeft)
	JMP(LabelRef("blocks"))

	Commentf("The last rows %% %d rows of the band.", w)
	Label("rowEdge")
	TESTQ(rowsLeft, rowsLeft)
	JZ(LabelRef("bandDone"))
	colCount := GP64()
	MOVQ(U32(w), colCount)
	edgeBlock(t, "rowEdge", rowsLeft, colCount, dst.from(dstBlock), src.from(srcBlock))

	Label("bandDone")
}

// lastBand transposes the last colCount < w source columns, in edge
// blocks of up to w rows.
func lastBand(t target, dst, src rowsAt, colCount GPVirtual) {
	w := t.lanes()
	srcBlock, dstBlock := GP64(), GP64()
	MOVQ(src.base, srcBlock)
	MOVQ(dst.base, dstBlock)
	rowsLeft := Load(Param("rows"), GP64()).(GPVirtual)

	Label("lastBlocks")
	rowCount := GP64()
	MOVQ(rowsLeft, rowCount)
	CMPQ(rowCount, U8(w))
	JLE(LabelRef("lastBandRows"))
	MOVQ(U32(w), rowCount)
	Label("lastBandRows")
	edgeBlock(t, "lastBand", rowCount, colCount, dst.from(dstBlock), src.from(srcBlock))
	src.down(srcBlock, w)
	ADDQ(U32(4*w), dstBlock)
	SUBQ(U8(w), rowsLeft)
	JG(LabelRef("lastBlocks"))
}

// wholeBlock transposes the w×w block at src into the w×w block at dst.
//
// Registers: rows[i] holds source row i; the network turns them into
// columns, cols[j] holding source column j, which is destination row j.
func wholeBlock(t target, dst, src rowsAt) {
	rows := make([]VecVirtual, t.lanes())
	forRows(src, len(rows), func(i int, m Mem) {
		rows[i] = t.vector()
		VMOVUPS(m, rows[i])
	})

	cols := t.transpose(rows)

	forRows(dst, len(cols), func(j int, m Mem) {
		VMOVUPS(cols[j], m)
	})
}

// edgeBlock transposes a block of rowCount source rows and colCount
// source columns, 1 to w each, at src into the block at dst.
//
// Registers: as in wholeBlock. Every row register starts as zeros read
// from laneMasks (avo would take an XOR with itself for a use of the old
// value, and keep the register live back to the function's entry). Rows
// past rowCount are never loaded: they stay zero, and their lanes in the
// columns are masked off when storing. Columns past colCount load as zeros
// and are never stored.
//
// Loop: none; after loading row rowCount-1 the loads jump to the network,
// and after storing destination row colCount-1 the stores jump to the
// end. label prefixes the block's labels.
func edgeBlock(t target, label string, rowCount, colCount GPVirtual, dst, src rowsAt) {
	w := t.lanes()
	t.beginEdge(rowCount, colCount)
	rows := make([]VecVirtual, w)
	for i := range rows {
		rows[i] = t.vector()
		VMOVUPS(laneMasks.Offset(64), rows[i])
	}

	forRows(src, w, func(i int, m Mem) {
		t.loadEdge(m, rows[i])
		if i < w-1 {
			CMPQ(rowCount, U8(i+1))
			JEQ(LabelRef(label + "Loaded"))
		}
	})

	Label(label + "Loaded")
	cols := t.transpose(rows)

	forRows(dst, w, func(j int, m Mem) {
		t.storeEdge(cols[j], m)
		if j < w-1 {
			CMPQ(colCount, U8(j+1))
			JEQ(LabelRef(label + "Stored"))
		}
	})
	Label(label + "Stored")
}

// unpackPairs is the first stage of both networks. For each pair of rows
// (2k, 2k+1) it interleaves their floats inside every 128-bit chunk: chunk
// c of result 2k holds columns 4c and 4c+1 of the two rows, (r2k, r2k+1,
// r2k, r2k+1), and chunk c of result 2k+1 columns 4c+2 and 4c+3.
func unpackPairs(t target, rows []VecVirtual) []VecVirtual {
	pairs := make([]VecVirtual, len(rows))
	for k := 0; k < len(rows); k += 2 {
		pairs[k], pairs[k+1] = t.vector(), t.vector()
		VUNPCKLPS(rows[k+1], rows[k], pairs[k])
		VUNPCKHPS(rows[k+1], rows[k], pairs[k+1])
	}
	return pairs
}

// gatherQuads is the second stage of both networks. For each group of
// four rows g..g+3 it combines the pairs of unpackPairs so that chunk c of
// result g+m holds column 4c+m of those four rows, in row order.
func gatherQuads(t target, pairs []VecVirtual) []VecVirtual {
	quads := make([]VecVirtual, len(pairs))
	for g := 0; g < len(pairs); g += 4 {
		for m := range 4 {
			quads[g+m] = t.vector()
		}
		// 0x44 takes floats 0, 1 of each chunk of both sources, 0xee 2, 3.
		VSHUFPS(U8(0x44), pairs[g+2], pairs[g], quads[g])
		VSHUFPS(U8(0xee), pairs[g+2], pairs[g], quads[g+1])
		VSHUFPS(U8(0x44), pairs[g+3], pairs[g+1], quads[g+2])
		VSHUFPS(U8(0xee), pairs[g+3], pairs[g+1], quads[g+3])
	}
	return quads
}
