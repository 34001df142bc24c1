package dist_test

import (
	"math"

	"github.com/tripletmine/triplet/dist"
)

// The float64 references: straight loops from the definitions, on rows
// widened to float64, against which the float32 code is judged.

// widen returns s in float64.
func widen(s []float32) []float64 {
	w := make([]float64, len(s))
	for i, v := range s {
		w[i] = float64(v)
	}
	return w
}

// refDistance is the metric between rows x and y, in float64.
func refDistance(m dist.Metric, x, y []float64) float64 {
	switch m {
	case dist.Cosine:
		var dot, xx, yy float64
		for k := range x {
			dot += x[k] * y[k]
			xx += x[k] * x[k]
			yy += y[k] * y[k]
		}
		return 1 - dot/math.Sqrt(xx*yy)
	default:
		var sum float64
		for k := range x {
			d := x[k] - y[k]
			sum += d * d
		}
		if m == dist.Euclidean {
			return math.Sqrt(sum)
		}
		return sum
	}
}

// refDistanceGrad adds w·∂d(x, y)/∂x to gx, in float64; the Euclidean
// derivative at distance 0 is 0.
func refDistanceGrad(m dist.Metric, x, y []float64, w float64, gx []float64) {
	switch m {
	case dist.SquaredEuclidean:
		for k := range x {
			gx[k] += w * 2 * (x[k] - y[k])
		}
	case dist.Euclidean:
		d := refDistance(m, x, y)
		if d == 0 {
			return
		}
		for k := range x {
			gx[k] += w * (x[k] - y[k]) / d
		}
	case dist.Cosine:
		// d = 1 - x·y/(|x||y|); ∂d/∂x = -(y/(|x||y|) - (x·y)·x/(|x|³|y|)).
		var dot, xx, yy float64
		for k := range x {
			dot += x[k] * y[k]
			xx += x[k] * x[k]
			yy += y[k] * y[k]
		}
		nx, ny := math.Sqrt(xx), math.Sqrt(yy)
		for k := range x {
			gx[k] -= w * (y[k]/(nx*ny) - dot*x[k]/(nx*nx*nx*ny))
		}
	}
}

// refCrossGrad returns the gradients of L = Σ_ij g[i][j]·d(q_i, r_j) with
// respect to the rows of q and of r.
func refCrossGrad(m dist.Metric, q, r []float64, dim int, g []float64) (gq, gr []float64) {
	n, nr := len(q)/dim, len(r)/dim
	gq, gr = make([]float64, len(q)), make([]float64, len(r))
	for i := range n {
		for j := range nr {
			w := g[i*nr+j]
			if w == 0 {
				continue
			}
			x, y := q[i*dim:(i+1)*dim], r[j*dim:(j+1)*dim]
			refDistanceGrad(m, x, y, w, gq[i*dim:(i+1)*dim])
			refDistanceGrad(m, y, x, w, gr[j*dim:(j+1)*dim])
		}
	}
	return gq, gr
}

// refPairwiseGrad returns the gradient of L = Σ_ij g[i][j]·d(e_i, e_j)
// with respect to the rows of e: both arguments of each pair move.
func refPairwiseGrad(m dist.Metric, e []float64, dim int, g []float64) []float64 {
	gq, gr := refCrossGrad(m, e, e, dim, g)
	for k := range gq {
		gq[k] += gr[k]
	}
	return gq
}

// refLoss is L = Σ_ij g[i][j]·d(q_i, r_j), in float64.
func refLoss(m dist.Metric, q, r []float64, dim int, g []float64) float64 {
	n, nr := len(q)/dim, len(r)/dim
	var loss float64
	for i := range n {
		for j := range nr {
			loss += g[i*nr+j] * refDistance(m, q[i*dim:(i+1)*dim], r[j*dim:(j+1)*dim])
		}
	}
	return loss
}
