package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/reg"
)

// avx512 kernels use the 32 ZMM registers, 16 floats each, and only
// AVX-512 Foundation instructions. The widest block pairs six query rows
// with four vectors (64 columns) of the panel: 24 accumulators, four
// column vectors, a difference, and one register of zeros that the
// accumulators start from: 30 in all. Query values come from memory
// through embedded broadcasts.
type avx512 struct{}

// zeros holds zero in every lane for the whole kernel. avo takes
// VPXORD v, v, v as a read of v, which would keep every accumulator live
// from the start of the function; copying one cleared register does not.
var zeros VecVirtual

func (avx512) name() string       { return "AVX512" }
func (avx512) lanes() int         { return 16 }
func (avx512) maxVectors() int    { return 4 }
func (avx512) vector() VecVirtual { return ZMM() }
func (avx512) embedded() bool     { return true }
func (avx512) zero(v VecVirtual)  { VMOVAPS(zeros, v) }

func (avx512) begin() {
	zeros = ZMM()
	VPXORD(zeros, zeros, zeros)
}
