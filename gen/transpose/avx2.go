package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// TODO: Intel documents that VMASKMOVPS and VPMASKMOVD never fault on
// masked-off lanes; AMD's manual calls that implementation-dependent (Zen 4
// and Zen 5 do not fault, as the guard-page tests show), and QEMU 7 reads
// the whole vector. Tails built from scalar loads would remove the doubt.

// avx2 kernels transpose 8×8 blocks in YMM registers. A block needs its 8
// rows and two registers of the network at a time, plus the two lane
// masks of an edge block: at most 12 of the 16 YMM registers, so avo
// never reaches for Y16-Y31, which VEX instructions cannot encode.
type avx2 struct {
	// loadLanes holds all ones in the lanes of the colCount columns of an
	// edge block and zero in the others; storeLanes the same for its
	// rowCount rows.
	loadLanes, storeLanes VecVirtual
}

func (*avx2) name() string       { return "AVX2" }
func (*avx2) lanes() int         { return 8 }
func (*avx2) vector() VecVirtual { return YMM() }

// transpose runs the 8×8 network in three stages of 8 shuffles. After
// gatherQuads, quads[m] holds column m of rows 0-3 in its low chunk and
// column 4+m of rows 0-3 in its high chunk; quads[4+m] the same for rows
// 4-7. VPERM2F128 pairs the low chunks into column m and the high chunks
// into column 4+m.
func (t *avx2) transpose(rows []VecVirtual) []VecVirtual {
	quads := gatherQuads(t, unpackPairs(t, rows))

	cols := make([]VecVirtual, 8)
	for m := range 4 {
		cols[m], cols[4+m] = YMM(), YMM()
		VPERM2F128(U8(0x20), quads[4+m], quads[m], cols[m])
		VPERM2F128(U8(0x31), quads[4+m], quads[m], cols[4+m])
	}
	return cols
}

// beginEdge loads the 8 words of laneMasks that start colCount (rowCount)
// words before its run of zeros: the low colCount (rowCount) lanes are all
// ones.
func (t *avx2) beginEdge(rowCount, colCount GPVirtual) {
	zeros, back := GP64(), GP64()
	LEAQ(laneMasks.Offset(64), zeros)

	t.loadLanes = YMM()
	MOVQ(colCount, back)
	NEGQ(back)
	VMOVDQU(Mem{Base: zeros, Index: back, Scale: 4}, t.loadLanes)

	t.storeLanes = YMM()
	MOVQ(rowCount, back)
	NEGQ(back)
	VMOVDQU(Mem{Base: zeros, Index: back, Scale: 4}, t.storeLanes)
}

func (t *avx2) loadEdge(m Mem, v VecVirtual)  { VMASKMOVPS(m, t.loadLanes, v) }
func (t *avx2) storeEdge(v VecVirtual, m Mem) { VMASKMOVPS(v, t.storeLanes, m) }
