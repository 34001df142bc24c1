// Command reduce writes the AVX2 and AVX-512 kernels of the masked
// reductions over one distance row, and their Go stubs:
//
//	maxSame        the hardest positive (largest distance with the anchor's label)
//	minOther       the hardest negative (smallest distance with another label)
//	minOtherAbove  the semi-hard negative (smallest negative above a threshold)
//	hingeOther     the sum and count of max(t - d, 0) over the negatives
//	addHinge       w added to dst where a negative's hinge max(t - d, 0) is positive
//
// Each kernel reduces one chunk of at most 65536 columns, so that column
// numbers fit in int32 lanes; the Go wrappers in package asm split longer
// rows and exclude the anchor's own column through self, which may fall
// outside the chunk. The plain Go
// references next to those wrappers are the specification.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// How many independent blocks of columns one loop round handles, each into
// its own accumulators, so that the dependency chains of consecutive blocks
// (compare, then keep the better lanes; or widen, subtract, add) overlap.
// These measured fastest on Zen 4 at n = 4096. The AVX2 kernels cannot
// unroll further: their registers would not fit in Y0-Y15, and avo would
// hand out Y16 and up, which VEX instructions cannot encode.
const (
	selectUnrollAVX512 = 4
	hingeUnrollAVX512  = 2
	selectUnrollAVX2   = 3
	hingeUnrollAVX2    = 2
)

// Predicates of VCMPPS. All are ordered and quiet: false, without a
// floating-point exception, when either side is NaN.
const (
	floatEqual   = 0x00 // EQ_OQ
	floatLess    = 0x11 // LT_OQ
	floatGreater = 0x1e // GT_OQ
)

// Predicates of VPCMPD (AVX-512 integer compares into a mask register).
const (
	intEqual    = 0
	intLess     = 1
	intNotEqual = 4
)

// Bit patterns of float32 and int32 lanes.
const (
	plusInfinity  = 0x7f800000
	minusInfinity = 0xff800000
	allOnes       = 0xffffffff // int32 -1: "no column", and a true vector mask
	largestInt32  = 0x7fffffff
)

// selection is one of the argmin/argmax reductions over a distance row:
// which columns are candidates and which value wins.
type selection struct {
	name    string // name of the Go reference without "Generic"
	what    string // what it selects, for the stubs' doc comments
	same    bool   // candidates share the anchor's label; else they differ from it
	largest bool   // keep the largest value; else the smallest
	above   bool   // candidates must also be strictly greater than threshold
}

var selections = []selection{
	{name: "maxSame", what: "the hardest positive", same: true, largest: true},
	{name: "minOther", what: "the hardest negative"},
	{name: "minOtherAbove", what: "the semi-hard negative", above: true},
}

// signature is the Go signature of the kernel's stub.
func (s selection) signature() string {
	params := "row *float32, labels *int32, n int, label int32, self int"
	if s.above {
		params += ", threshold float32"
	}
	return "func(" + params + ") (index int, value float32)"
}

// sentinel is the value of an accumulator lane before its first
// candidate: every finite candidate improves on it.
func (s selection) sentinel() uint32 {
	if s.largest {
		return minusInfinity
	}
	return plusInfinity
}

// improves is the VCMPPS predicate that is true when a candidate value,
// the first compared operand, beats the best value so far.
func (s selection) improves() uint64 {
	if s.largest {
		return floatGreater
	}
	return floatLess
}

// labelPredicate is the VPCMPD predicate that makes a column's label
// acceptable: equal to the anchor's for positives, different for negatives.
func (s selection) labelPredicate() uint64 {
	if s.same {
		return intEqual
	}
	return intNotEqual
}

// pick writes the instruction that combines two vectors of best values
// into the better one per lane, with the operands of VMINPS.
func (s selection) pick(ops ...Op) {
	if s.largest {
		VMAXPS(ops...)
		return
	}
	VMINPS(ops...)
}

// document writes the stub's doc comment for the kernel of s at an
// instruction set level that handles lanes columns per vector.
func (s selection) document(level string, lanes, unroll int) {
	Doc(
		fmt.Sprintf("%s%s selects %s of one chunk as", s.name, level, s.what),
		fmt.Sprintf("%sGeneric does, with %s: %d columns per vector,", s.name, level, lanes),
		fmt.Sprintf("%d blocks per loop round. It returns -1 and 0 when no column", unroll),
		"is a candidate. It needs n <= 65536.",
	)
}

const hingeSignature = "func(row *float32, labels *int32, n int, label int32, self int, " +
	"t float32) (sum float64, count int)"

// documentHinge writes the doc comment of hingeOther's stub at a level.
func documentHinge(level string, lanes, unroll int) {
	Doc(
		fmt.Sprintf("hingeOther%s computes what hingeOtherGeneric does on one chunk,", level),
		fmt.Sprintf("with %s: %d columns per vector, %d blocks per loop round.", level,
			lanes, unroll),
		"Its float64 differences are the reference's; only the order in which",
		"it adds them differs. It needs n <= 65536.",
	)
}

// blockLoops writes the loop structure that every kernel shares, over the
// columns j = 0, 1, ..., n-1 of a row:
//
//	round:  while at least unroll*width columns remain, one round of
//	        unroll blocks of width columns;
//	block:  while at least width columns remain, one block;
//	tail:   the last n % width columns, if any, as one masked block.
//
// Only one round can hold the anchor's own column self: the others run
// round(false), which leaves out the test for it; that round, the single
// blocks and the tail test every column. The bodies read columns from j
// on and move their own column numbers forward; blockLoops advances j.
// Control reaches the label "reduce" after the tail.
func blockLoops(n, j, self reg.GPVirtual, width, unroll int,
	round func(withSelf bool), block, tail func()) {

	lastRound, lastBlock := GP64(), GP64()
	MOVQ(n, lastRound)
	SUBQ(Imm(uint64(unroll*width)), lastRound)
	MOVQ(n, lastBlock)
	SUBQ(Imm(uint64(width)), lastBlock)
	XORQ(j, j)

	Comment(fmt.Sprintf("Rounds of %d blocks of %d columns.", unroll, width))
	Label("round")
	CMPQ(j, lastRound)
	JG(LabelRef("block"))
	selfOffset := GP64()
	MOVQ(self, selfOffset)
	SUBQ(j, selfOffset)
	CMPQ(selfOffset, Imm(uint64(unroll*width)))
	JB(LabelRef("roundWithSelf"))
	round(false)
	ADDQ(Imm(uint64(unroll*width)), j)
	JMP(LabelRef("round"))

	Comment("The round that holds the anchor's own column.")
	Label("roundWithSelf")
	round(true)
	ADDQ(Imm(uint64(unroll*width)), j)
	JMP(LabelRef("round"))

	Comment(fmt.Sprintf("Single blocks of %d columns.", width))
	Label("block")
	CMPQ(j, lastBlock)
	JG(LabelRef("tail"))
	block()
	ADDQ(Imm(uint64(width)), j)
	JMP(LabelRef("block"))

	Comment("The last columns, fewer than a block, with masked loads.")
	Label("tail")
	CMPQ(j, n)
	JE(LabelRef("reduce"))
	tail()

	Label("reduce")
}

// loadSelf loads the anchor's own column and turns any value outside
// [0, n) into -1, which no lane's column equals: the Go wrappers pass
// self relative to each chunk, and a column number that does not fit in
// int32 must not alias one that does.
func loadSelf(n reg.GPVirtual) reg.GPVirtual {
	self := Load(Param("self"), GP64()).(reg.GPVirtual)
	CMPQ(self, n)
	JB(LabelRef("selfInChunk"))
	MOVQ(I32(-1), self)
	Label("selfInChunk")
	return self
}

// laneColumns returns static data holding the int32 numbers 0, 1, ..., 15:
// the column of each lane in the first block of a row.
func laneColumns() Mem {
	columns := GLOBL("laneColumns", RODATA|NOPTR)
	for i := range 16 {
		DATA(4*i, U32(uint32(i)))
	}
	return columns
}

func main() {
	// avo reads the old +build syntax, where a comma means "and": this is
	// "//go:build gc && !purego" in both files.
	ConstraintExpr("gc,!purego")
	columns := laneColumns()

	for _, s := range selections {
		selectAVX512(s, columns)
	}
	hingeAVX512(columns)
	addHingeAVX512(columns)

	for _, s := range selections {
		selectAVX2(s, columns)
	}
	hingeAVX2(columns)
	addHingeAVX2(columns)

	Generate()
}
