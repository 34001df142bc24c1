package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/reg"
)

// avx2 kernels use the 16 YMM registers, 8 floats each. The widest block
// pairs six query rows with two vectors (16 columns) of the panel: 12
// accumulators, two column vectors, the broadcast query value and a
// difference, all 16 registers.
type avx2 struct{}

func (avx2) name() string       { return "AVX2" }
func (avx2) lanes() int         { return 8 }
func (avx2) maxVectors() int    { return 2 }
func (avx2) vector() VecVirtual { return YMM() }
func (avx2) embedded() bool     { return false }
func (avx2) zero(v VecVirtual)  { VXORPS(v, v, v) }
func (avx2) begin()             {}
