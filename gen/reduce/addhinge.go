package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

const addHingeSignature = "func(dst *float32, row *float32, labels *int32, n int, label int32, " +
	"self int, t float32, w float32)"

// documentAddHinge writes the doc comment of addHinge's stub at a level.
func documentAddHinge(level string) {
	Doc(
		"addHinge"+level+" computes what addHingeGeneric does on one chunk, with "+level+":",
		"dst[j] += w for each negative column j with row[j] < t. It needs",
		"n <= 65536.",
	)
}

// addHingeAVX512 writes addHingeAVX512, one anchor-positive pair's share
// of the batch-all gradient with respect to a distance row.
//
// Registers: a ZMM covers 16 consecutive columns, lane i holding column
// j+i of dst, of the row and of the labels; t and w are broadcast to every
// lane. Per block, negative is the mask of the columns with another label
// (and not self), active those of them below t, and the block of dst is
// loaded, w added under active, and stored back.
//
// Loop: rounds of hingeUnrollAVX512 blocks, single blocks, then one block
// for the last n % 16 columns whose loads and store are masked to the
// columns that exist.
func addHingeAVX512(laneColumns Mem) {
	TEXT("addHingeAVX512", NOSPLIT, addHingeSignature)
	Pragma("noescape")
	documentAddHinge("AVX512")

	r := loadRowAVX512()
	dst := Mem{Base: Load(Param("dst"), GP64())}
	t, w := ZMM(), ZMM()
	VBROADCASTSS(Load(Param("t"), XMM()), t)
	VBROADCASTSS(Load(Param("w"), XMM()), w)

	add := func(offset int, columns reg.VecVirtual, valid reg.OpmaskVirtual) {
		valueAt, labelAt := r.at(offset)
		out := dst.Idx(r.j, 4).Offset(4 * offset)
		negative := r.candidates(intNotEqual, labelAt, columns, columns != nil, valid)
		active, sums := K(), ZMM()
		if valid == nil {
			VCMPPS(Imm(floatGreater), valueAt, t, negative, active)
			VMOVUPS(out, sums)
			VADDPS(w, sums, active, sums)
			VMOVUPS(sums, out)
			return
		}
		values := ZMM()
		VMOVUPS_Z(valueAt, valid, values)
		VCMPPS(Imm(floatLess), t, values, negative, active)
		VMOVUPS_Z(out, valid, sums)
		VADDPS(w, sums, active, sums)
		VMOVUPS(sums, valid, out)
	}
	blockLoops(r.n, r.j, r.selfColumn, 16, hingeUnrollAVX512,
		func(withSelf bool) {
			for u := range hingeUnrollAVX512 {
				var columns reg.VecVirtual
				if withSelf {
					columns = r.columnsFrom(laneColumns, 16*u)
				}
				add(16*u, columns, nil)
			}
		},
		func() { add(0, r.columnsFrom(laneColumns, 0), nil) },
		func() {
			columns := r.columnsFrom(laneColumns, 0)
			add(0, columns, r.tailMask(columns))
		})

	VZEROUPPER()
	RET()
}

// addHingeAVX2 writes addHingeAVX2.
//
// Registers: a YMM covers 8 consecutive columns, lane i holding column j+i
// of dst, of the row and of the labels; t and w are broadcast to every
// lane. Per block, active is the vector mask of the negative columns
// below t; dst + w replaces dst in those lanes only (a blend, so that the
// other lanes keep their bits, -0 included).
//
// Loop: rounds of hingeUnrollAVX2 blocks, single blocks, then one block
// for the last n % 8 columns, loaded and stored with VMASKMOVPS and
// VPMASKMOVD under the mask of the columns that exist.
func addHingeAVX2(laneColumns Mem) {
	TEXT("addHingeAVX2", NOSPLIT, addHingeSignature)
	Pragma("noescape")
	documentAddHinge("AVX2")

	r := loadRowAVX2()
	dst := Mem{Base: Load(Param("dst"), GP64())}
	t, w := YMM(), YMM()
	VBROADCASTSS(Load(Param("t"), XMM()), t)
	VBROADCASTSS(Load(Param("w"), XMM()), w)

	add := func(offset int, columns, valid reg.VecVirtual) {
		valueAt, labelAt := r.at(offset)
		out := dst.Idx(r.j, 4).Offset(4 * offset)
		values, sameLabel := r.load(valueAt, labelAt, valid)
		active := YMM()
		VCMPPS(Imm(floatLess), t, values, active)
		VPANDN(active, sameLabel, active)
		if columns != nil {
			isSelf := YMM()
			VPCMPEQD(columns, r.self, isSelf)
			VPANDN(active, isSelf, active)
		}
		sums, added := YMM(), YMM()
		if valid == nil {
			VMOVUPS(out, sums)
		} else {
			VPAND(valid, active, active)
			VMASKMOVPS(out, valid, sums)
		}
		VADDPS(w, sums, added)
		VBLENDVPS(active, added, sums, sums)
		if valid == nil {
			VMOVUPS(sums, out)
		} else {
			VMASKMOVPS(sums, valid, out)
		}
	}
	blockLoops(r.n, r.j, r.selfColumn, 8, hingeUnrollAVX2,
		func(withSelf bool) {
			for u := range hingeUnrollAVX2 {
				var columns reg.VecVirtual
				if withSelf {
					columns = r.columnsFrom(laneColumns, 8*u)
				}
				add(8*u, columns, nil)
			}
		},
		func() { add(0, r.columnsFrom(laneColumns, 0), nil) },
		func() {
			columns := r.columnsFrom(laneColumns, 0)
			add(0, columns, r.tailMask(columns))
		})

	VZEROUPPER()
	RET()
}
