package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// The AVX-512 kernels use AVX512F only: every EVEX instruction works on
// whole ZMM registers, and 256- and 128-bit views of a ZMM appear only as
// operands of AVX512F forms (VCVTPS2PD from a YMM, VEXTRACTF64X4, VMOVD).
// The VEX instructions that fetch and return the results run on registers
// the allocator hands out last, which land in X0-X15; a test of the
// generated file checks that no other instruction names X16-X31 or
// Y16-Y31, which would need AVX512VL.

// rowAVX512 holds what every block of an AVX-512 kernel reads.
type rowAVX512 struct {
	row, labels Mem            // the distance row and its labels, indexed by column
	n           reg.GPVirtual  // number of columns
	j           reg.GPVirtual  // first column of the current round or block
	selfColumn  reg.GPVirtual  // the anchor's own column, or -1 if not in this chunk
	label       reg.VecVirtual // the anchor's label in every lane
	self        reg.VecVirtual // selfColumn in every lane
}

// loadRowAVX512 loads the arguments that all AVX-512 kernels share.
func loadRowAVX512() rowAVX512 {
	r := rowAVX512{
		row:    Mem{Base: Load(Param("row"), GP64())},
		labels: Mem{Base: Load(Param("labels"), GP64())},
		n:      Load(Param("n"), GP64()).(reg.GPVirtual),
		j:      GP64(),
		label:  ZMM(),
		self:   ZMM(),
	}
	r.selfColumn = loadSelf(r.n)
	VPBROADCASTD(Load(Param("label"), GP32()), r.label)
	VPBROADCASTD(r.selfColumn.As32(), r.self)
	return r
}

// at returns the addresses of the row value and the label of column
// j + offset.
func (r rowAVX512) at(offset int) (value, label Mem) {
	return r.row.Idx(r.j, 4).Offset(4 * offset), r.labels.Idx(r.j, 4).Offset(4 * offset)
}

// columnsFrom returns the column numbers j+offset, ..., j+offset+15.
func (r rowAVX512) columnsFrom(laneColumns Mem, offset int) reg.VecVirtual {
	first := GP64()
	LEAQ(Mem{Base: r.j, Disp: offset}, first)
	columns := ZMM()
	VPBROADCASTD(first.As32(), columns)
	VPADDD(laneColumns, columns, columns)
	return columns
}

// tailMask returns a mask of the lanes of columns whose number is below n.
func (r rowAVX512) tailMask(columns reg.VecVirtual) reg.OpmaskVirtual {
	n := ZMM()
	VPBROADCASTD(r.n.As32(), n)
	valid := K()
	VPCMPD(Imm(intLess), n, columns, valid)
	return valid
}

// candidates returns the mask of the lanes whose column is not the
// anchor's own (when withSelf) and whose label compares to the anchor's by
// predicate; valid, if not nil, masks the lanes whose columns exist, and
// the labels of the others are not loaded.
func (r rowAVX512) candidates(predicate uint64, labelAt Mem, columns reg.VecVirtual,
	withSelf bool, valid reg.OpmaskVirtual) reg.OpmaskVirtual {

	candidate := K()
	switch {
	case withSelf && valid != nil:
		VPCMPD(Imm(intNotEqual), r.self, columns, valid, candidate)
	case withSelf:
		VPCMPD(Imm(intNotEqual), r.self, columns, candidate)
	case valid != nil:
		KMOVW(valid, candidate)
	}

	if valid != nil {
		labels := ZMM()
		VMOVDQU32_Z(labelAt, valid, labels)
		VPCMPD(Imm(predicate), labels, r.label, candidate, candidate)
	} else if withSelf {
		VPCMPD(Imm(predicate), labelAt, r.label, candidate, candidate)
	} else {
		VPCMPD(Imm(predicate), labelAt, r.label, candidate)
	}
	return candidate
}

// constantAVX512 returns a ZMM with bits in every 32-bit lane.
func constantAVX512(bits uint32) reg.VecVirtual {
	scalar := GP32()
	MOVL(U32(bits), scalar)
	v := ZMM()
	VPBROADCASTD(scalar, v)
	return v
}

// spreadAVX512 combines the sixteen 32-bit lanes of x with op until every
// lane holds the combination of all of them: it swaps 256-bit halves,
// then 128-bit quarters, then pairs and single lanes, combining after
// each swap. Float lanes move with float shuffles, int32 lanes with
// integer ones.
func spreadAVX512(op func(...Op), x reg.VecVirtual, float bool) {
	swapped := ZMM()
	for _, quarters := range []uint64{0x4e, 0xb1} {
		if float {
			VSHUFF32X4(Imm(quarters), x, x, swapped)
		} else {
			VSHUFI32X4(Imm(quarters), x, x, swapped)
		}
		op(swapped, x, x)
	}
	for _, lanes := range []uint64{0x4e, 0xb1} {
		if float {
			VPERMILPS(Imm(lanes), x, swapped)
		} else {
			VPSHUFD(Imm(lanes), x, swapped)
		}
		op(swapped, x, x)
	}
}

// selectAVX512 writes the AVX-512 kernel of s.
//
// Registers: a ZMM covers 16 consecutive columns, lane i holding column
// j+i of the row, of the labels, or its column number. Each of the
// selectUnrollAVX512 blocks of a round has its own accumulator pair:
// best[u] holds in each lane the best candidate value that lane has seen
// in that block position, and bestColumn[u] its column (int32); a lane
// with no candidate yet holds the sentinel ±Inf and column -1. columns
// holds the column numbers of the next block to read. Masks: candidate is
// the lanes whose column is neither self nor of the wrong label (nor, for
// semi-hard, at or below the threshold); better the candidates that beat
// best.
//
// Loop: rounds of selectUnrollAVX512 blocks, single blocks into
// accumulator 0, then one masked block for the last n % 16 columns (masked
// lanes are neither loaded nor faulted on). A lane replaces its best only
// on strict improvement, so among equal values it keeps its lowest column.
// The reduction takes the best value over all lanes of all accumulators,
// then the lowest column among the lanes that hold that value. A lane
// without a candidate holds ±Inf, which no finite best equals; if no lane
// has a candidate, all hold ±Inf and column -1, and -1 comes out.
func selectAVX512(s selection, laneColumns Mem) {
	TEXT(s.name+"AVX512", NOSPLIT, s.signature())
	Pragma("noescape")
	s.document("AVX512", 16, selectUnrollAVX512)

	r := loadRowAVX512()
	var threshold reg.VecVirtual
	if s.above {
		threshold = ZMM()
		VBROADCASTSS(Load(Param("threshold"), XMM()), threshold)
	}

	Comment("Accumulators start with no candidate: the sentinel and column -1.")
	sentinel, none := constantAVX512(s.sentinel()), constantAVX512(allOnes)
	best := make([]reg.VecVirtual, selectUnrollAVX512)
	bestColumn := make([]reg.VecVirtual, selectUnrollAVX512)
	for u := range best {
		best[u], bestColumn[u] = ZMM(), ZMM()
		VMOVAPS(sentinel, best[u])
		VMOVDQA32(none, bestColumn[u])
	}
	columns := ZMM()
	VMOVDQU32(laneColumns, columns)
	step := constantAVX512(16)

	blockLoops(r.n, r.j, r.selfColumn, 16, selectUnrollAVX512,
		func(withSelf bool) {
			for u := range best {
				s.blockAVX512(r, threshold, 16*u, columns, best[u], bestColumn[u],
					withSelf, nil)
				VPADDD(step, columns, columns)
			}
		},
		func() {
			s.blockAVX512(r, threshold, 0, columns, best[0], bestColumn[0], true, nil)
			VPADDD(step, columns, columns)
		},
		func() {
			s.blockAVX512(r, threshold, 0, columns, best[0], bestColumn[0], true,
				r.tailMask(columns))
		})

	Comment("The best value over all lanes, in every lane.")
	extreme := ZMM()
	s.pick(best[1], best[0], extreme)
	for _, b := range best[2:] {
		s.pick(b, extreme, extreme)
	}
	spreadAVX512(s.pick, extreme, true)

	Comment("The lowest column among the lanes that hold it.")
	first := constantAVX512(largestInt32)
	for u := range best {
		holds := K()
		VCMPPS(Imm(floatEqual), extreme, best[u], holds)
		VPMINSD(bestColumn[u], first, holds, first)
	}
	spreadAVX512(VPMINSD, first, false)

	returnSelection(r.row, first)
}

// blockAVX512 folds the 16 columns from j+offset on, numbered by columns,
// into one accumulator pair (best, bestColumn). withSelf says whether the
// anchor's own column may be among them; valid, if not nil, masks the
// lanes whose columns exist: the loads skip the others.
func (s selection) blockAVX512(r rowAVX512, threshold reg.VecVirtual, offset int,
	columns, best, bestColumn reg.VecVirtual, withSelf bool, valid reg.OpmaskVirtual) {

	valueAt, labelAt := r.at(offset)
	candidate := r.candidates(s.labelPredicate(), labelAt, columns, withSelf, valid)
	values := ZMM()
	if valid == nil {
		VMOVUPS(valueAt, values)
	} else {
		VMOVUPS_Z(valueAt, valid, values)
	}
	if s.above {
		VCMPPS(Imm(floatGreater), threshold, values, candidate, candidate)
	}

	better := K()
	VCMPPS(Imm(s.improves()), best, values, candidate, better)
	VMOVAPS(values, better, best)
	VMOVDQA32(columns, better, bestColumn)
}

// hingeAVX512 writes hingeOtherAVX512.
//
// Registers: a ZMM of float32 covers 16 consecutive columns, lane i holding
// column j+i; VCVTPS2PD widens its low and high 8 lanes to two ZMMs of
// float64. Each of the hingeUnrollAVX512 blocks of a round has its own
// accumulators: sumLow[u] and sumHigh[u] add, per float64 lane,
// float64(t) - float64(row[j]) over the active columns of the low and high
// half; count[u] counts them in int32 lanes. A column is active when it is
// a negative (another label, not self) with row[j] < t; the mask active
// holds that for the 16 lanes, and its upper byte shifted down is the mask
// of the high half. Column numbers are made from j only where self or the
// end of the row needs them.
//
// Loop: rounds of hingeUnrollAVX512 blocks, single blocks into accumulator
// 0, then one masked block for the last n % 16 columns. The reduction adds
// all float64 lanes (in a tree, so in another order than the reference)
// and all int32 counts.
func hingeAVX512(laneColumns Mem) {
	TEXT("hingeOtherAVX512", NOSPLIT, hingeSignature)
	Pragma("noescape")
	documentHinge("AVX512", 16, hingeUnrollAVX512)

	r := loadRowAVX512()
	t := ZMM()
	VBROADCASTSS(Load(Param("t"), XMM()), t)
	tWide := ZMM()
	VCVTPS2PD(t.AsY(), tWide)

	Comment("Accumulators start at zero.")
	zero := constantAVX512(0)
	sumLow := make([]reg.VecVirtual, hingeUnrollAVX512)
	sumHigh := make([]reg.VecVirtual, hingeUnrollAVX512)
	count := make([]reg.VecVirtual, hingeUnrollAVX512)
	for u := range count {
		sumLow[u], sumHigh[u], count[u] = ZMM(), ZMM(), ZMM()
		for _, a := range []reg.VecVirtual{sumLow[u], sumHigh[u], count[u]} {
			VMOVDQA32(zero, a)
		}
	}
	minusOne := constantAVX512(allOnes)

	add := func(offset, u int, columns reg.VecVirtual, valid reg.OpmaskVirtual) {
		hingeBlockAVX512(r, t, tWide, minusOne, offset, columns,
			sumLow[u], sumHigh[u], count[u], valid)
	}
	blockLoops(r.n, r.j, r.selfColumn, 16, hingeUnrollAVX512,
		func(withSelf bool) {
			for u := range count {
				var columns reg.VecVirtual
				if withSelf {
					columns = r.columnsFrom(laneColumns, 16*u)
				}
				add(16*u, u, columns, nil)
			}
		},
		func() {
			add(0, 0, r.columnsFrom(laneColumns, 0), nil)
		},
		func() {
			columns := r.columnsFrom(laneColumns, 0)
			add(0, 0, columns, r.tailMask(columns))
		})

	Comment("Add up the accumulators, then the lanes.")
	sum := ZMM()
	VADDPD(sumHigh[0], sumLow[0], sum)
	total := ZMM()
	VMOVDQA32(count[0], total)
	for u := 1; u < len(count); u++ {
		VADDPD(sumLow[u], sum, sum)
		VADDPD(sumHigh[u], sum, sum)
		VPADDD(count[u], total, total)
	}
	swapped := ZMM()
	VSHUFF64X2(Imm(0x4e), sum, sum, swapped)
	VADDPD(swapped, sum, sum)
	VSHUFF64X2(Imm(0xb1), sum, sum, swapped)
	VADDPD(swapped, sum, sum)
	VPERMILPD(Imm(0x55), sum, swapped)
	result := ZMM()
	VADDPD(swapped, sum, result)
	spreadAVX512(VPADDD, total, false)

	returnHinge(result.AsX(), total.AsX())
}

// hingeBlockAVX512 adds the hinges of the 16 columns from j+offset on to
// one set of accumulators. columns, if not nil, numbers them so that the
// anchor's own column is left out; valid, if not nil, masks the lanes
// whose columns exist. Full blocks compare and convert straight from
// memory, which measured faster than loading once and splitting the
// register; the tail converts its masked load.
func hingeBlockAVX512(r rowAVX512, t, tWide, minusOne reg.VecVirtual, offset int,
	columns, sumLow, sumHigh, count reg.VecVirtual, valid reg.OpmaskVirtual) {

	valueAt, labelAt := r.at(offset)
	negative := r.candidates(intNotEqual, labelAt, columns, columns != nil, valid)

	active := K()
	low, high := ZMM(), ZMM()
	if valid == nil {
		VCMPPS(Imm(floatGreater), valueAt, t, negative, active)
		VCVTPS2PD(valueAt, low)
		VCVTPS2PD(valueAt.Offset(32), high)
	} else {
		values := ZMM()
		VMOVUPS_Z(valueAt, valid, values)
		VCMPPS(Imm(floatLess), t, values, negative, active)
		VCVTPS2PD(values.AsY(), low)
		upper := YMM()
		VEXTRACTF64X4(Imm(1), values, upper)
		VCVTPS2PD(upper, high)
	}
	VPSUBD(minusOne, count, active, count)

	VSUBPD(low, tWide, low)
	VADDPD(low, sumLow, active, sumLow)
	activeHigh := K()
	KSHIFTRW(Imm(8), active, activeHigh)
	VSUBPD(high, tWide, high)
	VADDPD(high, sumHigh, activeHigh, sumHigh)
}
