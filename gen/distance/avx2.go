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

// avx2 kernels use the 16 YMM registers, 8 floats each. A block pairs four
// query rows with two reference rows (8 accumulators, four query vectors,
// one reference vector and a difference: 14 registers), or one query row
// with four reference rows.
type avx2 struct{}

// tailLanes holds the lanes that the last dim % 8 floats of a row fill, as
// all-ones words, for VMASKMOVPS.
var tailLanes VecVirtual

func (avx2) name() string       { return "AVX2" }
func (avx2) lanes() int         { return 8 }
func (avx2) vector() VecVirtual { return YMM() }
func (avx2) zero(v VecVirtual)  { VXORPS(v, v, v) }

func (avx2) blockCols(qRows int) int {
	if qRows == 4 {
		return 2
	}
	return 4
}

// beginTail loads the 8 words of laneMasks that start rest words before
// its run of zeros: the low rest lanes are all ones.
func (avx2) beginTail(rest GPVirtual) {
	tailLanes = YMM()
	zeros := GP64()
	LEAQ(laneMasks.Offset(64), zeros)
	NEGQ(rest)
	VMOVDQU(Mem{Base: zeros, Index: rest, Scale: 4}, tailLanes)
}

func (avx2) loadTail(m Mem, v VecVirtual) { VMASKMOVPS(m, tailLanes, v) }

// store reduces the accumulators of a block. Every accumulator goes
// through the same tree of additions (halves, then pairLanes twice), so a
// pair's value does not depend on where it sits in a tile.
func (avx2) store(acc [][]VecVirtual, out block) {
	qRows, cols := len(acc), len(acc[0])
	t := avx2{}
	switch {
	case qRows == 4 && cols == 2:
		Comment("Reduce the 4×2 block: chunk 0 is rows 0 and 1, chunk 1 rows 2 and 3.")
		top := pairLanes(t, halves(acc[0][0], acc[2][0]), halves(acc[0][1], acc[2][1]))
		bottom := pairLanes(t, halves(acc[1][0], acc[3][0]), halves(acc[1][1], acc[3][1]))
		sums, high := pairLanes(t, top, bottom), XMM()
		VEXTRACTF128(U8(1), sums, high)
		VMOVLPS(sums.AsX(), out.row(0, 0))
		VMOVHPS(sums.AsX(), out.row(1, 0))
		VMOVLPS(high, out.row(2, 0))
		VMOVHPS(high, out.row(3, 0))

	case qRows == 4 || cols == 4:
		Comment("Reduce four pairs: lanes 0, 1, 4, 5 hold pairs 0 to 3.")
		var a [4]VecVirtual
		for p := range a {
			a[p] = acc[p%qRows][p%cols]
		}
		sums := pairLanes(t, halves(a[0], a[2]), halves(a[1], a[3]))
		sums = pairLanes(t, sums, sums)
		high := XMM()
		VEXTRACTF128(U8(1), sums, high)
		if qRows == 4 {
			VMOVSS(sums.AsX(), out.row(0, 0))
			VEXTRACTPS(U8(1), sums.AsX(), out.row(1, 0))
			VMOVSS(high, out.row(2, 0))
			VEXTRACTPS(U8(1), high, out.row(3, 0))
		} else {
			VMOVLPS(sums.AsX(), out.row(0, 0))
			VMOVLPS(high, out.row(0, 2))
		}

	default:
		Comment("Reduce a single pair.")
		sum := halves(acc[0][0], acc[0][0])
		sum = pairLanes(t, sum, sum)
		sum = pairLanes(t, sum, sum)
		VMOVSS(sum.AsX(), out.row(0, 0))
	}
}

// halves adds the 128-bit halves of x into the low chunk of the result and
// those of y into the high chunk.
func halves(x, y VecVirtual) VecVirtual {
	low, high, sum := YMM(), YMM(), YMM()
	VPERM2F128(U8(0x20), y, x, low)
	VPERM2F128(U8(0x31), y, x, high)
	VADDPS(high, low, sum)
	return sum
}
