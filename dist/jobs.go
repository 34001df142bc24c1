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
// dists is set, (W + Wᵀ) / (2·dists) with 0 where a distance is 0 (the
// Euclidean chain rule), leaving at 0 the pairs that isNear picks out and
// marking their part in near; one part per pair of tiles (I, J), I <= J.
// Each worker transposes tile (J, I) of W into its own flips tile, adds
// it to tile (I, J) row by row, and mirrors the result into tile (J, I).
type symmetryJob struct {
	out, dLdD, dists, flips []float32
	noLabels                []int32
	near                    []bool
	nearBelow               float32
	n, tile, tiles          int
}

func (j *symmetryJob) Run(worker, part int) {
	i0, i1, k0, k1 := j.bounds(part)
	rows, cols, n := i1-i0, k1-k0, j.n
	flip := j.flips[worker*j.tile*j.tile:][:rows*cols]
	asm.Transpose(flip, cols, j.dLdD[k0*n+i0:], n, cols, rows)

	j.near[part] = false
	for i := range rows {
		out := j.out[(i0+i)*n+k0 : (i0+i)*n+k1]
		w := j.dLdD[(i0+i)*n+k0 : (i0+i)*n+k1]
		if j.dists == nil {
			copy(out, w)
			asm.AddScaled(out, 1, flip[i*cols:(i+1)*cols])
			continue
		}
		d := j.dists[(i0+i)*n+k0 : (i0+i)*n+k1]
		asm.AddDivide(out, w, flip[i*cols:(i+1)*cols], d)
		if near, closest := asm.SemiHardNegative(d, j.noLabels[:cols], 1, -1, 0); near >= 0 &&
			isNear(closest, j.nearBelow) {
			j.near[part] = true
			for k, dk := range d {
				if isNear(dk, j.nearBelow) {
					out[k] = 0
				}
			}
		}
	}
	if i0 != k0 {
		asm.Transpose(j.out[k0*n+i0:], n, j.out[i0*n+k0:], n, rows, cols)
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
				if isNear(j.dists[i*n+k], j.nearBelow) {
					entries = append(entries, Entry{Row: int32(i), Col: int32(k),
						Weight: j.dLdD[i*n+k] + j.dLdD[k*n+i]})
				}
			}
		}
	}
	return entries
}
