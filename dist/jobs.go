package dist

import "github.com/tripletmine/triplet/asm"

// productRows is the number of rows of the left factor in one part of a
// matrix product.
const productRows = 32

// productJob sets out (n rows, ld apart) to a·bᵀ, where a has n rows and b
// has ld rows, each of k floats; one part per productRows rows of a.
type productJob struct {
	out, a, b []float32
	ld, k, n  int
}

func (j *productJob) Run(_, part int) {
	i0, i1 := part*productRows, min((part+1)*productRows, j.n)
	asm.InnerProducts(j.out[i0*j.ld:], j.ld, j.a[i0*j.k:i1*j.k], j.b, j.k)
}

// symmetryJob sets out to W + Wᵀ for the n×n weights W = dLdD, or, when
// dists is set, W = dLdD / (2·dists) with 0 where a distance is 0 (the
// Euclidean chain rule), leaving the pairs that isNear picks out at 0 and
// marking their part in near; one part per pair of tiles (I, J), I <= J.
type symmetryJob struct {
	out, dLdD, dists, spread []float32
	near                     []bool
	n, tile, tiles           int
}

func (j *symmetryJob) Run(_, part int) {
	i0, i1, k0, k1 := j.bounds(part)
	n := j.n
	j.near[part] = false
	for i := i0; i < i1; i++ {
		for k := max(k0, i); k < k1; k++ {
			a, b := j.dLdD[i*n+k], j.dLdD[k*n+i]
			if j.dists != nil {
				d := j.dists[i*n+k]
				if isNear(d, j.spread[i], j.spread[k]) {
					j.near[part] = true
					a, b = 0, 0
				} else {
					a, b = euclideanWeight(a, d), euclideanWeight(b, d)
				}
			}
			j.out[i*n+k] = a + b
			j.out[k*n+i] = a + b
		}
	}
}

// bounds returns the rows [i0, i1) and columns [k0, k1) of a part's tile.
func (j *symmetryJob) bounds(part int) (i0, i1, k0, k1 int) {
	ti, tj := upperPair(part, j.tiles)
	return ti * j.tile, min((ti+1)*j.tile, j.n), tj * j.tile, min((tj+1)*j.tile, j.n)
}

// nearPairs appends to entries, in part order, the near pairs (i < k) that
// Run left out, each with the summed weight dLdD[i][k] + dLdD[k][i].
func (j *symmetryJob) nearPairs(entries []Entry) []Entry {
	n := j.n
	for part, near := range j.near {
		if !near {
			continue
		}
		i0, i1, k0, k1 := j.bounds(part)
		for i := i0; i < i1; i++ {
			for k := max(k0, i+1); k < k1; k++ {
				if isNear(j.dists[i*n+k], j.spread[i], j.spread[k]) {
					entries = append(entries, Entry{Row: int32(i), Col: int32(k),
						Weight: j.dLdD[i*n+k] + j.dLdD[k*n+i]})
				}
			}
		}
	}
	return entries
}

// transpose sets dst (cols rows, ldDst apart) to the transpose of src
// (rows rows of cols floats, ldSrc apart), in 8×8 squares.
func transpose(dst []float32, ldDst int, src []float32, ldSrc, rows, cols int) {
	const square = 8
	for ib := 0; ib < rows; ib += square {
		ie := min(ib+square, rows)
		for jb := 0; jb < cols; jb += square {
			je := min(jb+square, cols)
			for i := ib; i < ie; i++ {
				row := src[i*ldSrc : i*ldSrc+je]
				for j := jb; j < je; j++ {
					dst[j*ldDst+i] = row[j]
				}
			}
		}
	}
}
