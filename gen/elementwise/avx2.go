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

// avx2 kernels use YMM registers, 8 floats each. The tail goes through
// VMASKMOVPS, whose masked-off lanes neither load, store nor fault.
type avx2 struct {
	// tailLanes holds all ones in the lanes of the last n % 8 elements
	// and zero in the others.
	tailLanes VecVirtual
}

func (*avx2) name() string       { return "AVX2" }
func (*avx2) lanes() int         { return 8 }
func (*avx2) vector() VecVirtual { return YMM() }
func (*avx2) zero(v VecVirtual)  { VXORPS(v, v, v) }

// sum swaps 128-bit halves, then pairs and single lanes, adding after
// each swap.
func (*avx2) sum(x VecVirtual) {
	swapped := YMM()
	VPERM2F128(Imm(1), x, x, swapped)
	VADDPS(swapped, x, x)
	for _, lanes := range []uint64{0x4e, 0xb1} {
		VPERMILPS(Imm(lanes), x, swapped)
		VADDPS(swapped, x, x)
	}
}

func (*avx2) broadcast(scalar VecVirtual) VecVirtual {
	v := YMM()
	VBROADCASTSS(scalar, v)
	return v
}

// beginTail loads the 8 words of laneMasks that start rest words before
// its run of zeros: the low rest lanes are all ones.
func (t *avx2) beginTail(rest GPVirtual) {
	t.tailLanes = YMM()
	zeros := GP64()
	LEAQ(laneMasks.Offset(64), zeros)
	NEGQ(rest)
	VMOVDQU(Mem{Base: zeros, Index: rest, Scale: 4}, t.tailLanes)
}

func (t *avx2) loadTail(m Mem, v VecVirtual)  { VMASKMOVPS(m, t.tailLanes, v) }
func (t *avx2) storeTail(v VecVirtual, m Mem) { VMASKMOVPS(v, t.tailLanes, m) }
