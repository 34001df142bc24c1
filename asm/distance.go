package asm

import "fmt"

// callWork bounds the work of one assembly call, in multiply-adds (about
// 30 µs at the AVX-512 level), so that no call holds off the garbage
// collector for long: Go does not preempt assembly.
const callWork = 1 << 21

// SquaredDistances sets dst[i*ldDst+j] to the squared Euclidean distance
// between query row i and reference row j, the sum over k of
// (q[i*dim+k] - r[j*dim+k])². q holds len(q)/dim rows and r holds
// len(r)/dim rows, both row-major.
//
// Every level squares the differences rather than expanding
// ||x||² + ||y||² - 2x·y, so identical rows give exactly 0 and no result is
// negative. Every level sums a pair's terms in the order of k; the
// assembly levels fuse each square into the sum, the generic level rounds
// it first. Within one level a pair's value does not depend on the shapes
// of q and r or on where the pair sits among them, so the distances of a
// batch to itself are symmetric bit for bit, and any tiling of a matrix
// gives the same bits.
//
// It panics if dim < 1, if len(q) or len(r) is not a multiple of dim, if
// ldDst is less than the number of reference rows, or if dst is too short.
// It writes nothing else of dst.
func SquaredDistances(dst []float32, ldDst int, q, r []float32, dim int) {
	forPairs(squaredDistance, dst, ldDst, q, r, dim)
}

// InnerProducts sets dst[i*ldDst+j] to the inner product of query row i
// and reference row j, the sum over k of q[i*dim+k]·r[j*dim+k]. Shapes,
// the order of the sums and panics are those of SquaredDistances.
func InnerProducts(dst []float32, ldDst int, q, r []float32, dim int) {
	forPairs(innerProduct, dst, ldDst, q, r, dim)
}

// pairKind says what a distance kernel computes for a pair of rows.
type pairKind int

const (
	squaredDistance pairKind = iota
	innerProduct
)

// forPairs checks the shapes of a distance block and hands it to the
// current level.
func forPairs(kind pairKind, dst []float32, ldDst int, q, r []float32, dim int) {
	if dim < 1 {
		panic(fmt.Sprintf("asm: dim %d < 1", dim))
	}
	if len(q)%dim != 0 || len(r)%dim != 0 {
		panic(fmt.Sprintf("asm: row lengths %d and %d are not multiples of dim %d",
			len(q), len(r), dim))
	}
	nq, nr := len(q)/dim, len(r)/dim
	if nq == 0 || nr == 0 {
		return
	}
	if ldDst < nr {
		panic(fmt.Sprintf("asm: ldDst %d < %d reference rows", ldDst, nr))
	}
	if need := (nq-1)*ldDst + nr; len(dst) < need {
		panic(fmt.Sprintf("asm: dst has %d elements, want %d", len(dst), need))
	}
	pairs(kind, dst, ldDst, q, r, dim)
}

// genericTiles runs the generic kernels over the block in tiles of at
// most callWork multiply-adds, whose reference rows stay in cache while
// the tile's query rows pass over them.
func genericTiles(kind pairKind, dst []float32, ldDst int, q, r []float32, dim int) {
	nq, nr := len(q)/dim, len(r)/dim
	refRows := max(1, min(nr, callWork/(4*dim)))
	queryRows := max(4, callWork/(refRows*dim)) &^ 3
	for i0 := 0; i0 < nq; i0 += queryRows {
		i1 := min(i0+queryRows, nq)
		for j0 := 0; j0 < nr; j0 += refRows {
			j1 := min(j0+refRows, nr)
			out := dst[i0*ldDst+j0:]
			if kind == squaredDistance {
				sqDistGeneric(out, ldDst, q[i0*dim:i1*dim], r[j0*dim:j1*dim], dim)
			} else {
				dotGeneric(out, ldDst, q[i0*dim:i1*dim], r[j0*dim:j1*dim], dim)
			}
		}
	}
}

// sqDistGeneric is the reference for SquaredDistances on one tile:
//
//	for each query row i and reference row j:
//	    dst[i*ldDst+j] = Σ_k (q[i*dim+k] - r[j*dim+k])²
//
// summed in float32 in the order of k. The float32 conversion keeps the
// compiler from fusing the square and the sum into one rounding.
func sqDistGeneric(dst []float32, ldDst int, q, r []float32, dim int) {
	for i := 0; i < len(q)/dim; i++ {
		qi := q[i*dim : (i+1)*dim]
		out := dst[i*ldDst:]
		for j := 0; j < len(r)/dim; j++ {
			rj := r[j*dim : (j+1)*dim]
			var sum float32
			for k, x := range qi {
				diff := x - rj[k]
				sum += float32(diff * diff)
			}
			out[j] = sum
		}
	}
}

// dotGeneric is the reference for InnerProducts on one tile:
//
//	for each query row i and reference row j:
//	    dst[i*ldDst+j] = Σ_k q[i*dim+k]·r[j*dim+k]
//
// summed in float32 in the order of k, without fused multiply-adds.
func dotGeneric(dst []float32, ldDst int, q, r []float32, dim int) {
	for i := 0; i < len(q)/dim; i++ {
		qi := q[i*dim : (i+1)*dim]
		out := dst[i*ldDst:]
		for j := 0; j < len(r)/dim; j++ {
			rj := r[j*dim : (j+1)*dim]
			var sum float32
			for k, x := range qi {
				sum += float32(x * rj[k])
			}
			out[j] = sum
		}
	}
}
