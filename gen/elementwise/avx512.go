package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// avx512 kernels use ZMM registers, 16 floats each, and only AVX-512
// Foundation instructions on whole ZMM registers (the YMM and XMM forms
// of registers 16 to 31 would need AVX-512VL). The tail goes through an
// opmask: a zero-masked load and a merge-masked store, whose masked-off
// lanes neither load, store nor fault.
type avx512 struct {
	// tailMask has a bit set for each lane of the last n % 16 elements.
	tailMask OpmaskVirtual
}

func (*avx512) name() string       { return "AVX512" }
func (*avx512) lanes() int         { return 16 }
func (*avx512) vector() VecVirtual { return ZMM() }
func (*avx512) zero(v VecVirtual)  { VPXORD(v, v, v) }

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

func (*avx512) broadcast(scalar VecVirtual) VecVirtual {
	v := ZMM()
	VBROADCASTSS(scalar, v)
	return v
}

// beginTail sets tailMask to the low rest lanes: it loads the 16 words of
// laneMasks that start rest words before its run of zeros, and marks the
// non-zero ones.
func (t *avx512) beginTail(rest GPVirtual) {
	t.tailMask = K()
	ones, zeros := ZMM(), GP64()
	LEAQ(laneMasks.Offset(64), zeros)
	NEGQ(rest)
	VMOVDQU32(Mem{Base: zeros, Index: rest, Scale: 4}, ones)
	VPTESTMD(ones, ones, t.tailMask)
}

func (t *avx512) loadTail(m Mem, v VecVirtual)  { VMOVUPS_Z(m, t.tailMask, v) }
func (t *avx512) storeTail(v VecVirtual, m Mem) { VMOVUPS(v, t.tailMask, m) }
