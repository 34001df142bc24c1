package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// avx512 kernels use ZMM registers and AVX-512 Foundation instructions
// only: every vector instruction works on a whole ZMM, and the result
// leaves through VMOVSS, an AVX512F form for any register.
type avx512 struct {
	tailMask OpmaskVirtual
	zeros    VecVirtual
}

func (*avx512) name() string       { return "AVX512" }
func (*avx512) lanes() int         { return 16 }
func (*avx512) vector() VecVirtual { return ZMM() }

// zero copies a register cleared once: avo takes VPXORD v, v, v as a read
// of v, which would keep v live from the start of the function.
func (t *avx512) zero(v VecVirtual) {
	if t.zeros == nil {
		t.zeros = ZMM()
		VPXORD(t.zeros, t.zeros, t.zeros)
	}
	VMOVAPS(t.zeros, v)
}

// prepareTail sets the mask to the low rest lanes: it loads the 16 words of
// laneMasks that start rest words before its run of zeros and marks the
// non-zero ones.
func (t *avx512) prepareTail(rest GPVirtual) {
	t.tailMask = K()
	ones := ZMM()
	zeros := GP64()
	LEAQ(laneMasks.Offset(64), zeros)
	NEGQ(rest)
	VMOVDQU32(Mem{Base: zeros, Index: rest, Scale: 4}, ones)
	VPTESTMD(ones, ones, t.tailMask)
}

// loadTail loads under the mask; masked lanes are neither read nor
// faulted on.
func (t *avx512) loadTail(m Mem, v VecVirtual) { VMOVUPS_Z(m, t.tailMask, v) }

// sum swaps 256-bit halves, then 128-bit quarters, then pairs and single
// lanes, adding after each swap.
func (*avx512) sum(x VecVirtual) {
	swapped := ZMM()
	for _, quarters := range []uint64{0x4e, 0xb1} {
		VSHUFF32X4(Imm(quarters), x, x, swapped)
		VADDPS(swapped, x, x)
	}
	for _, lanes := range []uint64{0x4e, 0xb1} {
		VPERMILPS(Imm(lanes), x, swapped)
		VADDPS(swapped, x, x)
	}
}
