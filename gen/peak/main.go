// Command peak writes register-only fused multiply-add loops for package
// asm. They touch no memory, so the rate they reach is the core's peak
// float32 FMA throughput, the yardstick for the distance kernels.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("gc,!purego")
	fmaLoop("fmaPeakAVX512", ZMM, 24, 16)
	fmaLoop("fmaPeakAVX2", YMM, 14, 8)
	Generate()
}

// fmaLoop emits a function that runs iterations rounds of independent
// multiply-adds, one into each of chains accumulators.
//
// Registers: chains accumulators, each a dependency chain of its own, and
// two constant factors x and y. With more chains than the FMA latency
// times the number of FMA pipes, nothing stalls on a result, so the loop
// runs at the issue rate. One round is chains·lanes multiply-adds.
func fmaLoop(name string, vector func() VecVirtual, chains, lanes int) {
	zero := func(v VecVirtual) { VPXORD(v, v, v) }
	if lanes == 8 {
		zero = func(v VecVirtual) { VXORPS(v, v, v) }
	}

	TEXT(name, NOSPLIT, "func(iterations int)")
	Doc(name+" runs iterations rounds of "+fmt.Sprint(chains)+" independent",
		fmt.Sprintf("multiply-adds on %d-float registers, touching no memory.", lanes))

	acc := make([]VecVirtual, chains)
	for i := range acc {
		acc[i] = vector()
		zero(acc[i])
	}
	x, y := vector(), vector()
	zero(x)
	zero(y)

	rounds := Load(Param("iterations"), GP64())
	TESTQ(rounds, rounds)
	JZ(LabelRef("done"))
	Label("round")
	for _, a := range acc {
		VFMADD231PS(x, y, a)
	}
	DECQ(rounds)
	JNZ(LabelRef("round"))

	Label("done")
	VZEROUPPER()
	RET()
}
