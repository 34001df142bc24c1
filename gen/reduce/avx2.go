package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// TODO: Intel documents that VMASKMOVPS and VPMASKMOVD never fault on
// masked-off lanes; AMD's manual calls that implementation-dependent (Zen 4
// and Zen 5 do not fault, as the guard-page tests show), and QEMU 7 reads
// the whole vector. Tails built from scalar loads would remove the doubt.

// The AVX2 kernels keep masks as vectors of all-ones or all-zero lanes,
// combine them with VPAND and VPANDN and select with VBLENDVPS. Their
// tails load with VMASKMOVPS and VPMASKMOVD, which touch no memory in
// masked lanes, under a mask that compares the lanes' column numbers with
// n, so that no table of masks is needed.

// rowAVX2 holds what every block of an AVX2 kernel reads.
type rowAVX2 struct {
	row, labels Mem            // the distance row and its labels, indexed by column
	n           reg.GPVirtual  // number of columns
	j           reg.GPVirtual  // first column of the current round or block
	selfColumn  reg.GPVirtual  // the anchor's own column, or -1 if not in this chunk
	label       reg.VecVirtual // the anchor's label in every lane
	self        reg.VecVirtual // selfColumn in every lane
}

// loadRowAVX2 loads the arguments that all AVX2 kernels share.
func loadRowAVX2() rowAVX2 {
	r := rowAVX2{
		row:    Mem{Base: Load(Param("row"), GP64())},
		labels: Mem{Base: Load(Param("labels"), GP64())},
		n:      Load(Param("n"), GP64()).(reg.GPVirtual),
		j:      GP64(),
	}
	r.selfColumn = loadSelf(r.n)
	r.label = broadcastAVX2(Load(Param("label"), GP32()))
	r.self = broadcastAVX2(r.selfColumn.As32())
	return r
}

// at returns the addresses of the row value and the label of column
// j + offset.
func (r rowAVX2) at(offset int) (value, label Mem) {
	return r.row.Idx(r.j, 4).Offset(4 * offset), r.labels.Idx(r.j, 4).Offset(4 * offset)
}

// columnsFrom returns the column numbers j+offset, ..., j+offset+7.
func (r rowAVX2) columnsFrom(laneColumns Mem, offset int) reg.VecVirtual {
	first := GP64()
	LEAQ(Mem{Base: r.j, Disp: offset}, first)
	columns := broadcastAVX2(first.As32())
	VPADDD(laneColumns, columns, columns)
	return columns
}

// tailMask returns a vector mask of the lanes of columns whose number is
// below n.
func (r rowAVX2) tailMask(columns reg.VecVirtual) reg.VecVirtual {
	n := broadcastAVX2(r.n.As32())
	valid := YMM()
	VPCMPGTD(columns, n, valid)
	return valid
}

// broadcastAVX2 returns a YMM with the 32-bit scalar in every lane.
func broadcastAVX2(scalar reg.Register) reg.VecVirtual {
	x := XMM()
	VMOVD(scalar, x)
	v := YMM()
	VPBROADCASTD(x, v)
	return v
}

// constantAVX2 returns a YMM with bits in every 32-bit lane.
func constantAVX2(bits uint32) reg.VecVirtual {
	scalar := GP32()
	MOVL(U32(bits), scalar)
	return broadcastAVX2(scalar)
}

// spreadAVX2 combines the eight 32-bit lanes of x with op until every
// lane holds the combination of all of them: it swaps 128-bit halves,
// then pairs, then single lanes, combining after each swap.
func spreadAVX2(op func(...Op), x reg.VecVirtual, float bool) {
	swapped := YMM()
	if float {
		VPERM2F128(Imm(1), x, x, swapped)
	} else {
		VPERM2I128(Imm(1), x, x, swapped)
	}
	op(swapped, x, x)
	for _, lanes := range []uint64{0x4e, 0xb1} {
		if float {
			VPERMILPS(Imm(lanes), x, swapped)
		} else {
			VPSHUFD(Imm(lanes), x, swapped)
		}
		op(swapped, x, x)
	}
}

// selectAVX2 writes the AVX2 kernel of s.
//
// Registers: a YMM covers 8 consecutive columns, lane i holding column j+i
// of the row, of the labels, or its column number. Each of the
// selectUnrollAVX2 blocks of a round has its own accumulator pair: best[u]
// holds in each lane the best candidate value that lane has seen in that
// block position, and bestColumn[u] its column (int32); a lane with no
// candidate yet holds the sentinel ±Inf and column -1. columns holds the
// column numbers of the next block to read. Per block, better is the mask
// of the lanes whose value is a candidate and beats best.
//
// Loop: rounds of selectUnrollAVX2 blocks, single blocks into accumulator
// 0, then one masked block for the last n % 8 columns. Replacing only on
// strict improvement, a lane keeps its lowest column among equal values;
// the reduction takes the best value over all lanes of all accumulators
// and then the lowest column among the lanes that hold it, -1 when no
// lane has a candidate (all hold ±Inf and -1).
func selectAVX2(s selection, laneColumns Mem) {
	TEXT(s.name+"AVX2", NOSPLIT, s.signature())
	Pragma("noescape")
	s.document("AVX2", 8, selectUnrollAVX2)

	r := loadRowAVX2()
	var threshold reg.VecVirtual
	if s.above {
		threshold = YMM()
		VBROADCASTSS(Load(Param("threshold"), XMM()), threshold)
	}

	Comment("Accumulators start with no candidate: the sentinel and column -1.")
	sentinel, none := constantAVX2(s.sentinel()), constantAVX2(allOnes)
	best := make([]reg.VecVirtual, selectUnrollAVX2)
	bestColumn := make([]reg.VecVirtual, selectUnrollAVX2)
	for u := range best {
		best[u], bestColumn[u] = YMM(), YMM()
		VMOVAPS(sentinel, best[u])
		VMOVDQU(none, bestColumn[u])
	}
	columns := YMM()
	VMOVDQU(laneColumns, columns)
	step := constantAVX2(8)

	blockLoops(r.n, r.j, r.selfColumn, 8, selectUnrollAVX2,
		func(withSelf bool) {
			for u := range best {
				s.blockAVX2(r, threshold, 8*u, columns, best[u], bestColumn[u],
					withSelf, nil)
				VPADDD(step, columns, columns)
			}
		},
		func() {
			s.blockAVX2(r, threshold, 0, columns, best[0], bestColumn[0], true, nil)
			VPADDD(step, columns, columns)
		},
		func() {
			s.blockAVX2(r, threshold, 0, columns, best[0], bestColumn[0], true,
				r.tailMask(columns))
		})

	Comment("The best value over all lanes, in every lane.")
	extreme := YMM()
	s.pick(best[1], best[0], extreme)
	for _, b := range best[2:] {
		s.pick(b, extreme, extreme)
	}
	spreadAVX2(s.pick, extreme, true)

	Comment("The lowest column among the lanes that hold it.")
	largest := constantAVX2(largestInt32)
	var first reg.VecVirtual
	for u := range best {
		holds := YMM()
		VCMPPS(Imm(floatEqual), extreme, best[u], holds)
		column := YMM()
		VBLENDVPS(holds, bestColumn[u], largest, column)
		if first == nil {
			first = column
		} else {
			VPMINSD(column, first, first)
		}
	}
	spreadAVX2(VPMINSD, first, false)

	returnSelection(r.row, first)
}

// blockAVX2 folds the 8 columns from j+offset on, numbered by columns,
// into one accumulator pair (best, bestColumn). withSelf says whether the
// anchor's own column may be among them; valid, if not nil, is the vector
// mask of the lanes whose columns exist: the loads skip the others.
func (s selection) blockAVX2(r rowAVX2, threshold reg.VecVirtual, offset int,
	columns, best, bestColumn reg.VecVirtual, withSelf bool, valid reg.VecVirtual) {

	valueAt, labelAt := r.at(offset)
	values, sameLabel := r.load(valueAt, labelAt, valid)

	better := YMM()
	VCMPPS(Imm(s.improves()), best, values, better)
	if s.above {
		above := YMM()
		VCMPPS(Imm(floatGreater), threshold, values, above)
		VPAND(above, better, better)
	}
	if s.same {
		VPAND(sameLabel, better, better)
	} else {
		VPANDN(better, sameLabel, better)
	}
	if withSelf {
		isSelf := YMM()
		VPCMPEQD(columns, r.self, isSelf)
		VPANDN(better, isSelf, better)
	}
	if valid != nil {
		VPAND(valid, better, better)
	}

	VBLENDVPS(better, values, best, best)
	VBLENDVPS(better, columns, bestColumn, bestColumn)
}

// load returns the row values at valueAt and the mask of the lanes whose
// label at labelAt equals the anchor's. valid, if not nil, is the vector
// mask of the lanes to load; the others read as 0 and touch no memory.
func (r rowAVX2) load(valueAt, labelAt Mem, valid reg.VecVirtual) (values,
	sameLabel reg.VecVirtual) {

	values, sameLabel = YMM(), YMM()
	if valid == nil {
		VMOVUPS(valueAt, values)
		VPCMPEQD(labelAt, r.label, sameLabel)
		return values, sameLabel
	}
	VMASKMOVPS(valueAt, valid, values)
	labels := YMM()
	VPMASKMOVD(labelAt, valid, labels)
	VPCMPEQD(labels, r.label, sameLabel)
	return values, sameLabel
}

// hingeAVX2 writes hingeOtherAVX2.
//
// Registers: a YMM of float32 covers 8 consecutive columns, lane i holding
// column j+i; VCVTPS2PD widens its low and high 4 lanes to two YMMs of
// float64. Each of the hingeUnrollAVX2 blocks of a round has its own
// accumulators: sumLow[u] and sumHigh[u] add, per float64 lane,
// float64(t) - float64(row[j]) over the active columns of the low and high
// half, and count[u] counts them in int32 lanes. A column is active when it
// is a negative (another label, not self) with row[j] < t. Inactive lanes
// take the value t before widening, so that they add exactly +0. Column
// numbers are made from j only where self or the end of the row needs
// them.
//
// Loop: rounds of hingeUnrollAVX2 blocks, single blocks into accumulator
// 0, then one masked block for the last n % 8 columns. The reduction adds
// all float64 lanes (in a tree, so in another order than the reference)
// and all int32 counts.
func hingeAVX2(laneColumns Mem) {
	TEXT("hingeOtherAVX2", NOSPLIT, hingeSignature)
	Pragma("noescape")
	documentHinge("AVX2", 8, hingeUnrollAVX2)

	r := loadRowAVX2()
	t := YMM()
	VBROADCASTSS(Load(Param("t"), XMM()), t)
	tWide := YMM()
	VCVTPS2PD(t.AsX(), tWide)

	Comment("Accumulators start at zero.")
	sumLow := make([]reg.VecVirtual, hingeUnrollAVX2)
	sumHigh := make([]reg.VecVirtual, hingeUnrollAVX2)
	count := make([]reg.VecVirtual, hingeUnrollAVX2)
	for u := range count {
		sumLow[u], sumHigh[u], count[u] = YMM(), YMM(), YMM()
		for _, a := range []reg.VecVirtual{sumLow[u], sumHigh[u], count[u]} {
			VPXOR(a, a, a)
		}
	}

	add := func(offset, u int, columns, valid reg.VecVirtual) {
		hingeBlockAVX2(r, t, tWide, offset, columns, sumLow[u], sumHigh[u], count[u], valid)
	}
	blockLoops(r.n, r.j, r.selfColumn, 8, hingeUnrollAVX2,
		func(withSelf bool) {
			for u := range count {
				var columns reg.VecVirtual
				if withSelf {
					columns = r.columnsFrom(laneColumns, 8*u)
				}
				add(8*u, u, columns, nil)
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
	sum := YMM()
	VADDPD(sumHigh[0], sumLow[0], sum)
	total := YMM()
	VMOVDQU(count[0], total)
	for u := 1; u < len(count); u++ {
		VADDPD(sumLow[u], sum, sum)
		VADDPD(sumHigh[u], sum, sum)
		VPADDD(count[u], total, total)
	}
	half := XMM()
	VEXTRACTF128(Imm(1), sum, half)
	VADDPD(half, sum.AsX(), half)
	swapped := XMM()
	VPERMILPD(Imm(1), half, swapped)
	result := XMM()
	VADDPD(swapped, half, result)
	spreadAVX2(VPADDD, total, false)

	returnHinge(result, total.AsX())
}

// hingeBlockAVX2 adds the hinges of the 8 columns from j+offset on to one
// set of accumulators. columns, if not nil, numbers them so that the
// anchor's own column is left out; valid, if not nil, is the vector mask
// of the lanes whose columns exist.
func hingeBlockAVX2(r rowAVX2, t, tWide reg.VecVirtual, offset int,
	columns, sumLow, sumHigh, count, valid reg.VecVirtual) {

	valueAt, labelAt := r.at(offset)
	values, sameLabel := r.load(valueAt, labelAt, valid)
	active := YMM()
	VCMPPS(Imm(floatLess), t, values, active)
	VPANDN(active, sameLabel, active)
	if columns != nil {
		isSelf := YMM()
		VPCMPEQD(columns, r.self, isSelf)
		VPANDN(active, isSelf, active)
	}
	if valid != nil {
		VPAND(valid, active, active)
	}
	VPSUBD(active, count, count)

	kept := YMM()
	VBLENDVPS(active, values, t, kept)
	low := YMM()
	VCVTPS2PD(kept.AsX(), low)
	VSUBPD(low, tWide, low)
	VADDPD(low, sumLow, sumLow)
	upper := XMM()
	VEXTRACTF128(Imm(1), kept, upper)
	high := YMM()
	VCVTPS2PD(upper, high)
	VSUBPD(high, tWide, high)
	VADDPD(high, sumHigh, sumHigh)
}
