package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// divideTarget is a target that can also divide on the lanes where a
// denominator is not zero.
type divideTarget interface {
	target

	// zeroes returns a vector of +0 in every lane, for comparisons.
	zeroes() VecVirtual

	// divideNonzero sets quotient to sum / twice in the lanes where d is
	// not zero (or is NaN), and to +0 in the lanes where d is ±0; zero
	// holds +0 in every lane. It may overwrite d.
	divideNonzero(sum, twice, d, zero, quotient VecVirtual)
}

func (*avx2) zeroes() VecVirtual {
	v := YMM()
	VXORPS(v, v, v)
	return v
}

// divideNonzero divides every lane, then clears the lanes whose d equals
// zero (an ordered compare, so a NaN d keeps its quotient) with an AND
// NOT: the cleared lanes hold the bits of +0.
func (*avx2) divideNonzero(sum, twice, d, zero, quotient VecVirtual) {
	VCMPPS(U8(predicateEqualOrdered), zero, d, d)
	VDIVPS(twice, sum, quotient)
	VANDNPS(quotient, d, quotient)
}

func (*avx512) zeroes() VecVirtual {
	v := ZMM()
	VPXORD(v, v, v)
	return v
}

// divideNonzero divides with zero-masking, under a mask of the lanes
// whose d differs from zero (unordered, so a NaN d is divided too): the
// masked-off lanes are not divided and hold the bits of +0.
func (*avx512) divideNonzero(sum, twice, d, zero, quotient VecVirtual) {
	nonzero := K()
	VCMPPS(U8(predicateNotEqualUnordered), zero, d, nonzero)
	VDIVPS_Z(twice, sum, nonzero, quotient)
}

// The VCMPPS predicates that divideNonzero uses; they are complements of
// each other, so both levels pick the same lanes.
const (
	predicateEqualOrdered      = 0x00 // EQ_OQ: d == 0, false for NaN
	predicateNotEqualUnordered = 0x04 // NEQ_UQ: d != 0, true for NaN
)

// addDivideKernel writes addDivide<level>, which sets each of the n floats
// dst[i] to (a[i] + b[i]) / (2·d[i]), or to +0 where d[i] is zero.
//
// Registers: dst, a, b and d point at the next element of each slice;
// zero holds +0 in every lane. For vector u of a round, sums[u] receives
// a + b (VADDPS, one rounding, b read straight from memory), dens[u]
// holds d and twice[u] receives d + d (exactly 2·d, or +Inf where 2·d
// overflows, as the reference's 2*d); divideNonzero then divides with one
// rounding and leaves +0 where d is zero. Each step is the reference's
// float32 operation in the reference's order, so every lane has the
// reference's bits. The loads of a vector come before its store, so dst
// may be a, b or d itself.
//
// Loop: vectorLoops' rounds of unroll vectors, single vectors, then the
// masked tail, whose zeroed lanes have d = 0 and give quotients of +0
// that are not stored.
func addDivideKernel(t divideTarget) {
	name := "addDivide" + t.name()
	TEXT(name, NOSPLIT, "func(dst, a, b, d *float32, n int)")
	Pragma("noescape")
	Doc(
		name+" sets dst[i] = (a[i] + b[i]) / (2·d[i]), or +0 where d[i] == 0,",
		"for the n floats of each slice, bit for bit as addDivideGeneric does,",
		fmt.Sprintf("with %d floats per vector and %d vectors per loop round. It handles",
			t.lanes(), unroll),
		"any n >= 0; AddDivide passes chunks of 1 to 65536 elements.",
	)

	dst := Load(Param("dst"), GP64()).(GPVirtual)
	a := Load(Param("a"), GP64()).(GPVirtual)
	b := Load(Param("b"), GP64()).(GPVirtual)
	d := Load(Param("d"), GP64()).(GPVirtual)
	n := Load(Param("n"), GP64()).(GPVirtual)
	zero := t.zeroes()

	sums, dens, twice := make([]VecVirtual, unroll), make([]VecVirtual, unroll),
		make([]VecVirtual, unroll)
	for u := range unroll {
		sums[u], dens[u], twice[u] = t.vector(), t.vector(), t.vector()
	}

	// step computes vectors 0 .. vectors-1 from the operands that load
	// puts into sums, dens and the b operand it returns.
	step := func(vectors int, load func(u int) (b Op)) {
		for u := range vectors {
			VADDPS(load(u), sums[u], sums[u])
		}
		for u := range vectors {
			VADDPS(dens[u], dens[u], twice[u])
		}
		for u := range vectors {
			t.divideNonzero(sums[u], twice[u], dens[u], zero, sums[u])
		}
	}

	vectorLoops(t, n, []GPVirtual{dst, a, b, d},
		func(vectors int) {
			step(vectors, func(u int) Op {
				VMOVUPS(vectorAt(t, a, u), sums[u])
				VMOVUPS(vectorAt(t, d, u), dens[u])
				return vectorAt(t, b, u)
			})
			for u := range vectors {
				VMOVUPS(sums[u], vectorAt(t, dst, u))
			}
		},
		func() {
			bTail := t.vector()
			step(1, func(int) Op {
				t.loadTail(Mem{Base: a}, sums[0])
				t.loadTail(Mem{Base: d}, dens[0])
				t.loadTail(Mem{Base: b}, bTail)
				return bTail
			})
			t.storeTail(sums[0], Mem{Base: dst})
		})

	VZEROUPPER()
	RET()
}
