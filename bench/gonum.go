package bench

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/tripletmine/triplet"
)

// GonumMiner mines a batch under the Euclidean distance the way a
// competent Go programmer would without the triplet library: the Gram
// matrix E·Eᵀ from gonum's matrix product, squared distances as
// ||e_i||² + ||e_j||² - 2·G_ij clamped at 0, their square roots, plain
// loops over the positives and negatives of each anchor, and a backward
// pass to dL/dE. It computes in float64 and keeps its matrices between
// calls of the same shape.
//
// Its semantics are the library's defaults: batch-all divides the summed
// loss by the number of triplets with a positive loss, batch-hard by the
// number of anchors with a positive and a negative, semi-hard by the
// number of anchor-positive pairs of those anchors. Ties go to the lowest
// index, the hinge's derivative at 0 is 0, the selections are constants of
// the gradient, and the distance's gradient at distance 0 is 0.
//
// The backward pass of batch-all is a gonum matrix product of the n×n
// coefficients with the n×dim embeddings; batch-hard and semi-hard, with
// two nonzero weights per selected triplet, update the rows of the
// triplets directly.
type GonumMiner struct {
	Strategy triplet.Strategy
	Margin   float64

	rows    *mat.Dense // the embeddings, n×dim
	dists   *mat.Dense // the Gram matrix, then the distances, n×n
	weights *mat.Dense // batch-all: dL/dD, then the backward coefficients
	product *mat.Dense // batch-all: coefficients · rows, n×dim
	normsSq []float64
	grad    []float64 // dL/dE, n×dim

	result GonumResult
}

// GonumResult is what GonumMiner.Mine returns; its slice is overwritten by
// the next call.
type GonumResult struct {
	// Loss is the reduced triplet loss.
	Loss float64

	// Selected counts the triplets the strategy uses, and Active those of
	// them with a positive loss.
	Selected, Active int64

	// Triplets lists the batch-hard and semi-hard selections in anchor
	// order; batch-all lists none.
	Triplets []triplet.Triplet

	// slopes holds, per listed triplet, dL/dz before the reduction.
	slopes []float64
}

// errShape reports inputs whose lengths do not fit together.
var errShape = errors.New("bench: bad shape")

// Mine mines n rows of dim float32 embeddings with their labels, returns
// the loss and selections, and writes dL/dE into grad unless it is nil.
func (g *GonumMiner) Mine(embeddings []float32, dim int, labels []int32, grad []float32) (
	*GonumResult, error) {

	n := len(labels)
	if dim < 1 || n < 2 || len(embeddings) != n*dim || (grad != nil && len(grad) != n*dim) {
		return nil, fmt.Errorf("%w: %d values, dim %d, %d labels, %d gradient values",
			errShape, len(embeddings), dim, n, len(grad))
	}
	g.reshape(n, dim)

	rows := g.rows.RawMatrix().Data
	for i, v := range embeddings {
		rows[i] = float64(v)
	}
	g.distances(n)

	r := &g.result
	*r = GonumResult{Triplets: r.Triplets[:0], slopes: r.slopes[:0]}
	switch g.Strategy {
	case triplet.BatchAll:
		g.batchAll(labels)
	case triplet.BatchHard:
		g.batchHard(labels)
	case triplet.SemiHard:
		g.semiHard(labels)
	default:
		return nil, fmt.Errorf("bench: unknown strategy %v", g.Strategy)
	}

	if grad == nil {
		return r, nil
	}
	clear(g.grad)
	if g.Strategy == triplet.BatchAll {
		g.denseBackward(n, dim)
	} else {
		g.sparseBackward(dim)
	}
	for i, v := range g.grad {
		grad[i] = float32(v)
	}
	return r, nil
}

// reshape sizes the matrices for n rows of dim values, keeping them when
// the shape is that of the previous call; only batch-all needs the n×n
// weights.
func (g *GonumMiner) reshape(n, dim int) {
	if g.rows != nil && (g.weights != nil) == (g.Strategy == triplet.BatchAll) {
		if r, c := g.rows.Dims(); r == n && c == dim {
			return
		}
	}
	g.rows = mat.NewDense(n, dim, nil)
	g.dists = mat.NewDense(n, n, nil)
	g.normsSq = make([]float64, n)
	g.grad = make([]float64, n*dim)
	g.weights, g.product = nil, nil
	if g.Strategy == triplet.BatchAll {
		g.weights = mat.NewDense(n, n, nil)
		g.product = mat.NewDense(n, dim, nil)
	}
}

// distances fills g.dists with the Euclidean distances between the rows,
// from their Gram matrix.
func (g *GonumMiner) distances(n int) {
	g.dists.Mul(g.rows, g.rows.T())

	for i := range n {
		g.normsSq[i] = g.dists.At(i, i)
	}

	d := g.dists.RawMatrix()
	for i := range n {
		row := d.Data[i*d.Stride : i*d.Stride+n]
		for j, dot := range row {
			row[j] = math.Sqrt(max(g.normsSq[i]+g.normsSq[j]-2*dot, 0))
		}
	}
}

// distanceRow returns anchor a's distances to every row.
func (g *GonumMiner) distanceRow(a int) []float64 {
	d := g.dists.RawMatrix()
	return d.Data[a*d.Stride : a*d.Stride+d.Cols]
}

// batchAll sums the hinge over every valid triplet and writes dL/dD into
// g.weights: each active triplet adds 1 to (a, p) and -1 to (a, n), and
// the sum is then divided by the number of active triplets.
func (g *GonumMiner) batchAll(labels []int32) {
	r := &g.result
	w := g.weights.RawMatrix()
	clear(w.Data)

	var total float64
	for a, label := range labels {
		row := g.distanceRow(a)
		weightRow := w.Data[a*w.Stride : a*w.Stride+w.Cols]
		for p := range labels {
			if p == a || labels[p] != label {
				continue
			}
			for k := range labels {
				if labels[k] == label {
					continue
				}
				r.Selected++
				if z := row[p] - row[k] + g.Margin; z > 0 {
					total += z
					r.Active++
					weightRow[p]++
					weightRow[k]--
				}
			}
		}
	}

	if r.Active == 0 {
		return
	}
	r.Loss = total / float64(r.Active)
	for i := range w.Data {
		w.Data[i] /= float64(r.Active)
	}
}

// batchHard selects, for each anchor with a positive and a negative, its
// farthest positive and nearest negative, and averages over those anchors.
func (g *GonumMiner) batchHard(labels []int32) {
	for a, label := range labels {
		row := g.distanceRow(a)
		hardestPositive, hardestNegative := -1, -1
		for k, d := range row {
			switch {
			case k == a:
			case labels[k] == label:
				if hardestPositive < 0 || d > row[hardestPositive] {
					hardestPositive = k
				}
			default:
				if hardestNegative < 0 || d < row[hardestNegative] {
					hardestNegative = k
				}
			}
		}
		if hardestPositive >= 0 && hardestNegative >= 0 {
			g.add(a, hardestPositive, hardestNegative)
		}
	}
	g.reduce()
}

// semiHard selects, for each anchor-positive pair of an anchor with a
// negative, the nearest negative strictly farther than the positive, or
// the farthest negative when there is none, and averages over the pairs.
func (g *GonumMiner) semiHard(labels []int32) {
	for a, label := range labels {
		row := g.distanceRow(a)
		for p := range labels {
			if p == a || labels[p] != label {
				continue
			}
			nearestFarther, farthest := -1, -1
			for k, d := range row {
				if labels[k] == label {
					continue
				}
				if d > row[p] && (nearestFarther < 0 || d < row[nearestFarther]) {
					nearestFarther = k
				}
				if farthest < 0 || d > row[farthest] {
					farthest = k
				}
			}
			switch {
			case nearestFarther >= 0:
				g.add(a, p, nearestFarther)
			case farthest >= 0:
				g.add(a, p, farthest)
			}
		}
	}
	g.reduce()
}

// add records the selected triplet (a, p, n) with its hinge loss as a
// not yet reduced contribution to the loss.
func (g *GonumMiner) add(a, p, n int) {
	r := &g.result
	row := g.distanceRow(a)
	z := row[p] - row[n] + g.Margin
	slope := 0.0
	if z > 0 {
		r.Loss += z
		r.Active++
		slope = 1
	}
	r.Selected++
	r.Triplets = append(r.Triplets, triplet.Triplet{Anchor: int32(a), Positive: int32(p),
		Negative: int32(n)})
	r.slopes = append(r.slopes, slope)
}

// reduce divides the summed loss of the listed triplets, and their
// slopes, by their number.
func (g *GonumMiner) reduce() {
	r := &g.result
	if r.Selected == 0 {
		return
	}
	r.Loss /= float64(r.Selected)
	for i := range r.slopes {
		r.slopes[i] /= float64(r.Selected)
	}
}

// denseBackward turns batch-all's dL/dD into dL/dE. With
// U_ij = (dL/dD_ij) / D_ij (0 where D_ij is 0) and M = U + Uᵀ, the
// gradient of row i is Σ_j M_ij · (e_i - e_j), that is the row sums of M
// times E minus the matrix product M·E.
func (g *GonumMiner) denseBackward(n, dim int) {
	w := g.weights.RawMatrix()
	for i := range n {
		row := g.distanceRow(i)
		for j, d := range row {
			if d == 0 {
				w.Data[i*w.Stride+j] = 0
			} else {
				w.Data[i*w.Stride+j] /= d
			}
		}
	}
	for i := range n {
		for j := i + 1; j < n; j++ {
			sum := w.Data[i*w.Stride+j] + w.Data[j*w.Stride+i]
			w.Data[i*w.Stride+j], w.Data[j*w.Stride+i] = sum, sum
		}
	}

	g.product.Mul(g.weights, g.rows)

	rows, product := g.rows.RawMatrix(), g.product.RawMatrix()
	for i := range n {
		var rowSum float64
		for _, v := range w.Data[i*w.Stride : i*w.Stride+n] {
			rowSum += v
		}
		for k := range dim {
			g.grad[i*dim+k] = rowSum*rows.Data[i*rows.Stride+k] -
				product.Data[i*product.Stride+k]
		}
	}
}

// sparseBackward turns the weights of the listed triplets into dL/dE: a
// triplet with reduced slope s adds s·∂d(a,p)/∂E - s·∂d(a,n)/∂E.
func (g *GonumMiner) sparseBackward(dim int) {
	r := &g.result
	for i, t := range r.Triplets {
		if s := r.slopes[i]; s != 0 {
			g.addDistanceGradient(int(t.Anchor), int(t.Positive), s, dim)
			g.addDistanceGradient(int(t.Anchor), int(t.Negative), -s, dim)
		}
	}
}

// addDistanceGradient adds weight·∂d(i,j)/∂E to g.grad: weight·(e_i - e_j)
// / d(i,j) to row i and its opposite to row j, nothing at distance 0.
func (g *GonumMiner) addDistanceGradient(i, j int, weight float64, dim int) {
	d := g.dists.At(i, j)
	if d == 0 {
		return
	}
	rows := g.rows.RawMatrix()
	ei := rows.Data[i*rows.Stride : i*rows.Stride+dim]
	ej := rows.Data[j*rows.Stride : j*rows.Stride+dim]
	c := weight / d
	for k := range dim {
		step := c * (ei[k] - ej[k])
		g.grad[i*dim+k] += step
		g.grad[j*dim+k] -= step
	}
}
