package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// target is what differs between the AVX2 and the AVX-512 kernels: the
// vector width, the masked loads and stores of a chunk's last, partial
// vector, and the sum across the lanes of a vector.
type target interface {
	name() string

	// lanes is the number of float32 in a vector register.
	lanes() int

	// vector allocates a vector register of the target's width; zero
	// clears one.
	vector() VecVirtual
	zero(v VecVirtual)

	// sum adds every lane of x into lane 0, overwriting x.
	sum(x VecVirtual)

	// broadcast returns a vector with the float in lane 0 of scalar in
	// every lane.
	broadcast(scalar VecVirtual) VecVirtual

	// beginTail readies the masked loads and stores of the last
	// rest = n % lanes elements, 1 <= rest < lanes, overwriting rest.
	// loadTail then loads them into the low lanes of v and zeroes the
	// others; storeTail writes the low lanes of v back. Neither touches
	// memory past the rest elements.
	beginTail(rest GPVirtual)
	loadTail(m Mem, v VecVirtual)
	storeTail(v VecVirtual, m Mem)
}

// vectorLoops writes the loop structure that both kernels share, over the
// n elements of a chunk:
//
//	round:   n / (unroll·lanes) times, unroll whole vectors;
//	single:  then (n / lanes) % unroll times, one whole vector;
//	tail:    then, if n % lanes > 0, one masked vector of the last
//	         n % lanes elements.
//
// body(vectors) handles that many whole vectors from the current
// positions of the pointers in walk; after each round and each single,
// vectorLoops moves every pointer past the vectors done. tail handles the
// partial vector at the pointers' final positions. Control reaches the
// label "done" at the end, with n overwritten.
func vectorLoops(t target, n GPVirtual, walk []GPVirtual, body func(vectors int),
	tail func()) {

	width := t.lanes()
	count := GP64()

	advance := func(vectors int) {
		for _, p := range walk {
			ADDQ(U32(4*width*vectors), p)
		}
	}

	Comment(fmt.Sprintf("Rounds of %d vectors of %d floats.", unroll, width))
	MOVQ(n, count)
	SHRQ(U8(log2(unroll*width)), count)
	JZ(LabelRef("singles"))
	Label("round")
	body(unroll)
	advance(unroll)
	DECQ(count)
	JNZ(LabelRef("round"))

	Comment("Then single vectors.")
	Label("singles")
	MOVQ(n, count)
	SHRQ(U8(log2(width)), count)
	ANDQ(U8(unroll-1), count)
	JZ(LabelRef("tail"))
	Label("single")
	body(1)
	advance(1)
	DECQ(count)
	JNZ(LabelRef("single"))

	Comment("Then the last n % lanes elements, through masks.")
	Label("tail")
	rest := n
	ANDQ(U8(width-1), rest)
	JZ(LabelRef("done"))
	t.beginTail(rest)
	tail()

	Label("done")
}

// vectorAt addresses vector u of a round, counted from the element that
// p points at.
func vectorAt(t target, p GPVirtual, u int) Mem {
	return Mem{Base: p, Disp: 4 * t.lanes() * u}
}

// sqrtKernel writes sqrt<level>, which replaces each of the n floats at x
// by its square root.
//
// Registers: x points at the next element; roots[u] holds vector u of a
// round, lanes consecutive elements, which VSQRTPS replaces by their
// square roots, correctly rounded like the reference. The rounds read
// their operands straight from memory and store all roots after all
// square roots have started.
//
// Loop: vectorLoops' rounds of unroll vectors, single vectors, then the
// masked tail, whose zeroed lanes give roots of 0 that are not stored.
func sqrtKernel(t target) {
	name := "sqrt" + t.name()
	TEXT(name, NOSPLIT, "func(x *float32, n int)")
	Pragma("noescape")
	Doc(
		name+" replaces each of the n floats at x by its square root,",
		"as sqrtGeneric does, with "+fmt.Sprintf("%d floats per vector and %d vectors per",
			t.lanes(), unroll),
		"loop round. It handles any n >= 0; Sqrt passes chunks of 1 to 65536",
		"elements.",
	)

	x := Load(Param("x"), GP64()).(GPVirtual)
	n := Load(Param("n"), GP64()).(GPVirtual)
	roots := make([]VecVirtual, unroll)
	for u := range roots {
		roots[u] = t.vector()
	}

	vectorLoops(t, n, []GPVirtual{x},
		func(vectors int) {
			for u := range vectors {
				VSQRTPS(vectorAt(t, x, u), roots[u])
			}
			for u := range vectors {
				VMOVUPS(roots[u], vectorAt(t, x, u))
			}
		},
		func() {
			t.loadTail(Mem{Base: x}, roots[0])
			VSQRTPS(roots[0], roots[0])
			t.storeTail(roots[0], Mem{Base: x})
		})

	VZEROUPPER()
	RET()
}

// addScaledKernel writes addScaled<level>, which adds a·x[i] to each of
// the n floats dst[i].
//
// Registers: scale holds a in every lane; dst and x point at the next
// element of each slice; sums[u] holds vector u of a round of dst, lanes
// consecutive elements, and receives a·x + dst with a single rounding
// from VFMADD231PS, which reads x straight from memory. In the tail,
// sums[0] and xTail hold the last elements of dst and x in their low
// lanes and zero in the others, and only the low lanes are stored.
//
// Loop: vectorLoops' rounds of unroll vectors, single vectors, then the
// masked tail.
func addScaledKernel(t target) {
	name := "addScaled" + t.name()
	TEXT(name, NOSPLIT, "func(dst *float32, a float32, x *float32, n int)")
	Pragma("noescape")
	Doc(
		name+" adds a·x[i] to dst[i] for the n floats of dst and x,",
		"with one rounding per element, as AddScaled specifies, "+
			fmt.Sprintf("with %d floats per", t.lanes()),
		fmt.Sprintf("vector and %d vectors per loop round. It handles any n >= 0;", unroll),
		"AddScaled passes chunks of 1 to 65536 elements.",
	)

	dst := Load(Param("dst"), GP64()).(GPVirtual)
	scale := t.broadcast(Load(Param("a"), XMM()).(VecVirtual))
	x := Load(Param("x"), GP64()).(GPVirtual)
	n := Load(Param("n"), GP64()).(GPVirtual)
	sums := make([]VecVirtual, unroll)
	for u := range sums {
		sums[u] = t.vector()
	}

	vectorLoops(t, n, []GPVirtual{dst, x},
		func(vectors int) {
			for u := range vectors {
				VMOVUPS(vectorAt(t, dst, u), sums[u])
			}
			for u := range vectors {
				VFMADD231PS(vectorAt(t, x, u), scale, sums[u])
			}
			for u := range vectors {
				VMOVUPS(sums[u], vectorAt(t, dst, u))
			}
		},
		func() {
			xTail := t.vector()
			t.loadTail(Mem{Base: dst}, sums[0])
			t.loadTail(Mem{Base: x}, xTail)
			VFMADD231PS(xTail, scale, sums[0])
			t.storeTail(sums[0], Mem{Base: dst})
		})

	VZEROUPPER()
	RET()
}

func log2(n int) int {
	l := 0
	for n > 1 {
		n >>= 1
		l++
	}
	return l
}
