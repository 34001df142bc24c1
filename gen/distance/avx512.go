package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// avx512 kernels use the 32 ZMM registers, 16 floats each, and only
// AVX-512 Foundation instructions: every vector operation is on full ZMM
// registers, since the YMM and XMM forms of registers 16 to 31 would need
// AVX-512VL. A block pairs four query rows with four reference rows: 16
// accumulators, four query vectors, one reference vector and a difference,
// 22 registers in all.
type avx512 struct{}

// tailMask is the opmask of the lanes that the last dim % 16 floats of a
// row fill.
var tailMask OpmaskVirtual

func (avx512) name() string            { return "AVX512" }
func (avx512) lanes() int              { return 16 }
func (avx512) blockCols(qRows int) int { return 4 }
func (avx512) vector() VecVirtual      { return ZMM() }
func (avx512) zero(v VecVirtual)       { VPXORD(v, v, v) }

// beginTail sets tailMask to the low rest lanes: it loads the 16 words of
// laneMasks that start rest words before its run of zeros, and marks the
// non-zero ones.
func (avx512) beginTail(rest GPVirtual) {
	tailMask = K()
	ones := ZMM()
	zeros := GP64()
	LEAQ(laneMasks.Offset(64), zeros)
	NEGQ(rest)
	VMOVDQU32(Mem{Base: zeros, Index: rest, Scale: 4}, ones)
	VPTESTMD(ones, ones, tailMask)
}

func (avx512) loadTail(m Mem, v VecVirtual) { VMOVUPS_Z(m, tailMask, v) }

// store reduces the accumulators of a block. Every accumulator, whatever
// the shape of its block, goes through the same tree of additions
// (reduceColumn, then chunkSums), so a pair's value does not depend on
// where it sits in a tile: the kernel gives d(i,j) and d(j,i) the same
// bits.
func (avx512) store(acc [][]VecVirtual, out block) {
	qRows, cols := len(acc), len(acc[0])
	switch {
	case qRows == 4 && cols == 4:
		Comment("Reduce the 4×4 block: chunk i of the result is row i.")
		columns := make([]VecVirtual, 4)
		for j := range columns {
			columns[j] = reduceColumn(acc[0][j], acc[1][j], acc[2][j], acc[3][j])
		}
		sums := chunkSums(avx512{}, columns)
		for i := range 4 {
			VEXTRACTF32X4(U8(i), sums, out.row(i, 0))
		}

	case qRows == 4:
		Comment("Reduce a 4×1 edge: lane 4i of the result is row i.")
		sums := chunkSums(avx512{},
			[]VecVirtual{reduceColumn(acc[0][0], acc[1][0], acc[2][0], acc[3][0])})
		chunk := ZMM()
		VMOVSS(sums.AsX(), out.row(0, 0))
		for i := 1; i < 4; i++ {
			VSHUFF32X4(U8(i), sums, sums, chunk)
			VMOVSS(chunk.AsX(), out.row(i, 0))
		}

	case cols == 4:
		Comment("Reduce a 1×4 edge: lane 4j of the result is column j.")
		sums := chunkSums(avx512{},
			[]VecVirtual{reduceColumn(acc[0][0], acc[0][1], acc[0][2], acc[0][3])})
		firstLanes, bits := K(), GP32()
		MOVL(U32(0x1111), bits)
		KMOVW(bits, firstLanes)
		VCOMPRESSPS(sums, firstLanes, out.row(0, 0))

	default:
		Comment("Reduce a single pair through the same tree as the blocks.")
		a := acc[0][0]
		folded := halve(a, a)
		sums := chunkSums(avx512{}, []VecVirtual{halve(folded, folded)})
		VMOVSS(sums.AsX(), out.row(0, 0))
	}
}

// reduceColumn folds four accumulators a0..a3 into one register whose
// 128-bit chunk i holds four partial sums of ai.
func reduceColumn(a0, a1, a2, a3 VecVirtual) VecVirtual {
	lo, hi := halve(a0, a1), halve(a2, a3)
	return halve(lo, hi)
}

// halve adds the chunks of x and y pairwise: chunks (0,1) of the result
// are x0+x1 and x2+x3, chunks (2,3) are y0+y1 and y2+y3. It overwrites x.
func halve(x, y VecVirtual) VecVirtual {
	even, odd := ZMM(), ZMM()
	VSHUFF32X4(U8(0x88), y, x, even)
	VSHUFF32X4(U8(0xdd), y, x, odd)
	VADDPS(odd, even, x)
	return x
}

// chunkSums finishes the reduction inside each 128-bit chunk. Given one to
// four registers c0..c3 whose chunk i holds four partial sums of a value,
// it returns a register whose chunk i holds the finished sums
// (c0, c1, c2, c3) of chunk i, or, for one register, the sum in lane 0 of
// each chunk (the other lanes repeat it).
func chunkSums(t target, c []VecVirtual) VecVirtual {
	if len(c) == 1 {
		c = []VecVirtual{c[0], c[0], c[0], c[0]}
	}
	return pairLanes(t, pairLanes(t, c[0], c[1]), pairLanes(t, c[2], c[3]))
}
