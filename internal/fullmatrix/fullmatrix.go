// Package fullmatrix mines a batch against references the obvious way, for
// tests: it holds the whole matrix of distances from the anchors to every
// candidate and applies the definitions with straight loops in float64.
// The streamed miner must agree with it, and so must mining.Miner.Mine on
// a batch alone (a Case whose only candidates are the batch's rows).
package fullmatrix

import (
	"math"

	"github.com/tripletmine/triplet/dist"
	"github.com/tripletmine/triplet/mining"
)

// Case is a batch and its references with the full matrix of distances.
type Case struct {
	Metric dist.Metric
	Batch  mining.Batch
	Refs   mining.Refs

	// D is the n×(n+m) matrix from the anchors to every candidate index:
	// the batch rows, then the references.
	D []float32
}

// New computes the full matrix of a case with dist's Pairwise and Cross.
func New(metric dist.Metric, batch mining.Batch, refs mining.Refs) (*Case, error) {
	calc := dist.Calculator{Metric: metric}
	n, m, dim := len(batch.Labels), len(refs.Labels), batch.Dim
	own, err := calc.Pairwise(nil, batch.Rows, dim)
	if err != nil {
		return nil, err
	}
	cross, err := calc.Cross(nil, batch.Rows, refs.Rows, dim)
	if err != nil {
		return nil, err
	}
	c := &Case{Metric: metric, Batch: batch, Refs: refs, D: make([]float32, n*(n+m))}
	for a := range n {
		copy(c.D[a*(n+m):], own[a*n:(a+1)*n])
		copy(c.D[a*(n+m)+n:], cross[a*m:(a+1)*m])
	}
	return c, nil
}

// candidate reports whether candidate index col is one of anchor a's.
func (c *Case) candidate(cfg mining.Config, a, col int) bool {
	n := len(c.Batch.Labels)
	if col < n {
		return cfg.WithBatch && col != a
	}
	j := col - n
	return c.Batch.IDs == nil || c.Refs.IDs == nil || c.Batch.IDs[a] != c.Refs.IDs[j]
}

// label returns candidate index col's label.
func (c *Case) label(col int) int32 {
	n := len(c.Batch.Labels)
	if col < n {
		return c.Batch.Labels[col]
	}
	return c.Refs.Labels[col-n]
}

// Result is what Mine computes.
type Result struct {
	Loss     float64
	DLdD     []float64 // n×(n+m), like Case.D
	Triplets []mining.Triplet
	Stats    mining.Stats
}

// Hinge is the loss of one triplet and its derivative from the
// definitions: max(z, 0) (derivative 0 at 0) or softplus(z).
func Hinge(soft bool, z float64) (float64, float64) {
	if soft && z > 0 {
		// log(1 + eᶻ) = z + log(1 + e⁻ᶻ), which eᶻ cannot overflow.
		return z + math.Log1p(math.Exp(-z)), 1 / (1 + math.Exp(-z))
	}
	if soft {
		return math.Log1p(math.Exp(z)), 1 / (1 + math.Exp(-z))
	}
	if z > 0 {
		return z, 1
	}
	return 0, 0
}

// split returns anchor a's candidates of its label (same) or of other
// labels, in index order.
func (c *Case) split(cfg mining.Config, a int, same bool) []int {
	var out []int
	for col := range len(c.Batch.Labels) + len(c.Refs.Labels) {
		if c.candidate(cfg, a, col) && (c.label(col) == c.Batch.Labels[a]) == same {
			out = append(out, col)
		}
	}
	return out
}

// Mine applies cfg's strategy and reduction to the full matrix. Its
// triplets are the selections, or for batch-all with CollectAll those with
// a positive loss.
func (c *Case) Mine(cfg mining.Config) Result {
	n, cols := len(c.Batch.Labels), len(c.Batch.Labels)+len(c.Refs.Labels)
	at := func(a, col int) float64 { return float64(c.D[a*cols+col]) }
	margin := float64(cfg.Margin)
	r := Result{DLdD: make([]float64, n*cols)}
	slopes := make([]float64, n*cols)
	var total, sumPositive, sumNegative float64
	// A triplet is active when its loss is positive; softplus always is,
	// even where float64 rounds it to 0.
	pick := func(a, p, ng int, loss, slope float64) {
		active := loss > 0 || cfg.SoftMargin
		total += loss
		if active {
			r.Stats.Active++
		}
		sumPositive += at(a, p)
		sumNegative += at(a, ng)
		r.Stats.Selected++
		slopes[a*cols+p] += slope
		slopes[a*cols+ng] -= slope
		if cfg.Strategy != mining.BatchAll || (cfg.CollectAll && active) {
			r.Triplets = append(r.Triplets, mining.Triplet{Anchor: int32(a),
				Positive: int32(p), Negative: int32(ng)})
		}
	}
	choose := func(a, p, ng int) {
		loss, slope := Hinge(cfg.SoftMargin, at(a, p)-at(a, ng)+margin)
		pick(a, p, ng, loss, slope)
	}

	for a := range n {
		pos, neg := c.split(cfg, a, true), c.split(cfg, a, false)
		if len(pos) == 0 || len(neg) == 0 {
			continue
		}
		r.Stats.Anchors++
		r.Stats.Pairs += len(pos)
		r.Stats.Triplets += int64(len(pos) * len(neg))
		switch cfg.Strategy {
		case mining.BatchAll:
			// With the hinge, the library compares each negative with the
			// threshold d(a,p) + margin rounded to float32 (its kernels
			// take one float32 threshold per pair); so does the
			// reference. The softplus takes z = (d(a,p) - d(a,n)) + margin
			// in float64, the difference first, which keeps the margin
			// when distances are too large for d(a,p) + margin to hold it.
			for _, p := range pos {
				t := float64(float32(at(a, p)) + cfg.Margin)
				for _, ng := range neg {
					z := t - at(a, ng)
					if cfg.SoftMargin {
						z = at(a, p) - at(a, ng) + margin
					}
					loss, slope := Hinge(cfg.SoftMargin, z)
					pick(a, p, ng, loss, slope)
				}
			}
		case mining.BatchHard:
			p, ng := pos[0], neg[0]
			for _, col := range pos {
				if at(a, col) > at(a, p) {
					p = col
				}
			}
			for _, col := range neg {
				if at(a, col) < at(a, ng) {
					ng = col
				}
			}
			choose(a, p, ng)
		case mining.SemiHard:
			for _, p := range pos {
				ng, far := -1, neg[0]
				for _, col := range neg {
					if at(a, col) > at(a, p) && (ng < 0 || at(a, col) < at(a, ng)) {
						ng = col
					}
					if at(a, col) > at(a, far) {
						far = col
					}
				}
				if ng < 0 {
					ng = far
				}
				choose(a, p, ng)
			}
		}
	}

	selected := r.Stats.Selected
	if selected > 0 {
		r.Stats.ActiveFraction = float64(r.Stats.Active) / float64(selected)
		r.Stats.MeanPositive = sumPositive / float64(selected)
		r.Stats.MeanNegative = sumNegative / float64(selected)
	}
	divisor := float64(selected)
	switch {
	case cfg.Reduction == mining.SumReduction:
		divisor = 1
	case cfg.Reduction == mining.DefaultReduction && cfg.Strategy == mining.BatchAll:
		divisor = float64(r.Stats.Active)
	}
	if divisor > 0 {
		r.Loss = total / divisor
		for k, v := range slopes {
			r.DLdD[k] = v / divisor
		}
	}
	return r
}

// Grad returns the gradient with respect to the batch rows of a loss with
// gradient dLdD with respect to the full matrix, through dist's matrix
// gradients: the batch columns on both sides, the references constants.
func (c *Case) Grad(dLdD []float64) ([]float32, error) {
	n, m, dim := len(c.Batch.Labels), len(c.Refs.Labels), c.Batch.Dim
	cols := n + m
	own, cross := make([]float32, n*n), make([]float32, n*m)
	ownD, crossD := make([]float32, n*n), make([]float32, n*m)
	for a := range n {
		for col := range cols {
			g, d := float32(dLdD[a*cols+col]), c.D[a*cols+col]
			if col < n {
				own[a*n+col], ownD[a*n+col] = g, d
			} else {
				cross[a*m+col-n], crossD[a*m+col-n] = g, d
			}
		}
	}
	grad := make([]float32, n*dim)
	calc := dist.Calculator{Metric: c.Metric}
	if err := calc.PairwiseGrad(grad, c.Batch.Rows, dim, ownD, own); err != nil {
		return nil, err
	}
	if m > 0 {
		err := calc.CrossGrad(grad, nil, c.Batch.Rows, c.Refs.Rows, dim, crossD, cross)
		if err != nil {
			return nil, err
		}
	}
	return grad, nil
}
