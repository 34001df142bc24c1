package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// avx512 kernels transpose 16×16 blocks in ZMM registers, with AVX-512
// Foundation instructions on whole ZMM registers only (the YMM and XMM
// forms of registers 16 to 31 would need AVX-512VL). A block needs its 16
// rows and a few registers of the network at a time, within the 32 ZMM
// registers. Edge blocks use opmasks: a zero-masked load and a
// merge-masked store, whose masked-off lanes neither load, store nor
// fault.
type avx512 struct {
	// loadMask has a bit set for each of the colCount columns of an edge
	// block; storeMask for each of its rowCount rows.
	loadMask, storeMask OpmaskVirtual
}

func (*avx512) name() string       { return "AVX512" }
func (*avx512) lanes() int         { return 16 }
func (*avx512) vector() VecVirtual { return ZMM() }

// transpose runs the 16×16 network in four stages of 16 shuffles. After
// gatherQuads, chunk c of quads[4q+m] holds column 4c+m of rows 4q..4q+3,
// so for each m the chunks of quads[m], quads[4+m], quads[8+m] and
// quads[12+m] form a 4×4 matrix of 128-bit chunks, which two stages of
// VSHUFF32X4 transpose: column 4c+m gets chunk c of each, in row order.
//
// The first of those stages takes the even chunks (0x88) and the odd
// chunks (0xdd) of two registers: even[0] holds chunks (0, 2) of quads[m]
// and then of quads[4+m]; even[1] the same of quads[8+m] and quads[12+m].
// The second stage applies the same selection to even and odd: 0x88 on
// even gives column m, 0xdd column 8+m; on odd, columns 4+m and 12+m.
func (t *avx512) transpose(rows []VecVirtual) []VecVirtual {
	quads := gatherQuads(t, unpackPairs(t, rows))

	cols := make([]VecVirtual, 16)
	for m := range 4 {
		var even, odd [2]VecVirtual
		for h := range 2 {
			upper, lower := quads[8*h+4+m], quads[8*h+m]
			even[h], odd[h] = ZMM(), ZMM()
			VSHUFF32X4(U8(0x88), upper, lower, even[h])
			VSHUFF32X4(U8(0xdd), upper, lower, odd[h])
		}
		// even gives columns m and 8+m, odd columns 4+m and 12+m.
		for h, chunks := range [][2]VecVirtual{even, odd} {
			low, high := 4*h+m, 8+4*h+m
			cols[low], cols[high] = ZMM(), ZMM()
			VSHUFF32X4(U8(0x88), chunks[1], chunks[0], cols[low])
			VSHUFF32X4(U8(0xdd), chunks[1], chunks[0], cols[high])
		}
	}
	return cols
}

// beginEdge sets loadMask to the low colCount lanes and storeMask to the
// low rowCount lanes: it loads the 16 words of laneMasks that start that
// many words before its run of zeros, and marks the non-zero ones.
func (t *avx512) beginEdge(rowCount, colCount GPVirtual) {
	zeros, back := GP64(), GP64()
	ones := ZMM()
	LEAQ(laneMasks.Offset(64), zeros)

	t.loadMask = K()
	MOVQ(colCount, back)
	NEGQ(back)
	VMOVDQU32(Mem{Base: zeros, Index: back, Scale: 4}, ones)
	VPTESTMD(ones, ones, t.loadMask)

	t.storeMask = K()
	MOVQ(rowCount, back)
	NEGQ(back)
	VMOVDQU32(Mem{Base: zeros, Index: back, Scale: 4}, ones)
	VPTESTMD(ones, ones, t.storeMask)
}

func (t *avx512) loadEdge(m Mem, v VecVirtual)  { VMOVUPS_Z(m, t.loadMask, v) }
func (t *avx512) storeEdge(v VecVirtual, m Mem) { VMOVUPS(v, t.storeMask, m) }
