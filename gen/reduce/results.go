package main

import (
	"go/types"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// The endings shared by the AVX2 and AVX-512 kernels: they move the
// reduced lanes into the results and clear the upper halves of the vector
// registers right before returning.

// returnSelection returns the column in lane 0 of first and its value in
// the row, or -1 and 0 when the column is -1. Reading the value back from
// the row returns it exactly as stored, sign of zero included.
func returnSelection(row Mem, first reg.VecVirtual) {
	column := GP32()
	VMOVD(first.AsX(), column)
	index := GP64()
	MOVLQSX(column, index)

	value := XMM()
	VXORPS(value, value, value)
	TESTQ(index, index)
	JS(LabelRef("done"))
	VMOVSS(row.Idx(index, 4), value)

	Label("done")
	Store(index, Return("index"))
	storeFloat(value, "value")
	VZEROUPPER()
	RET()
}

// returnHinge returns the float64 sum in lane 0 of sum and the int32 count
// in lane 0 of count.
func returnHinge(sum, count reg.Register) {
	counted := GP32()
	VMOVD(count, counted)
	wide := GP64()
	MOVLQSX(counted, wide)

	storeFloat(sum, "sum")
	Store(wide, Return("count"))
	VZEROUPPER()
	RET()
}

// storeFloat stores lane 0 of x into the float32 or float64 result named
// result. avo's Store would use an SSE move, which must not run while the
// upper halves of the vector registers are dirty, that is before the
// VZEROUPPER that has to come right before RET; VMOVSS and VMOVSD are its
// VEX forms.
func storeFloat(x reg.Register, result string) {
	slot, err := Return(result).Resolve()
	if err != nil {
		panic(err)
	}
	if slot.Type.Kind() == types.Float64 {
		VMOVSD(x, slot.Addr)
		return
	}
	VMOVSS(x, slot.Addr)
}
