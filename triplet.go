// Package triplet mines triplets online from a batch of float32 embeddings
// and their class labels: batch-all, batch-hard and semi-hard mining, the
// triplet loss and its gradient with respect to the embeddings, the mined
// (anchor, positive, negative) triplets and statistics about them.
//
// A Miner is built once from a Config and reused for every batch:
//
//	m, err := triplet.NewMiner(triplet.Config{Strategy: triplet.BatchHard, Margin: 0.2})
//	...
//	res, err := m.Mine(embeddings, dim, labels, grad)
//	// res.Loss, grad (dL/d embeddings), res.Triplets, res.Stats
//
// For anchor a, the positives are the other rows with a's label and the
// negatives the rows with another label; a triplet's loss is
// max(d(a,p) - d(a,n) + margin, 0), or its softplus with SoftMargin. Ties
// between distances go to the lowest index, the hinge's derivative at 0 is
// 0, and the selections are constants of the gradient.
//
// The library is layered, each layer usable on its own: package mining
// runs the strategies over a distance matrix, package dist computes
// distance matrices and their backward pass, and package asm holds the
// AVX2 and AVX-512 kernels and their Go references, chosen at run time from
// cpuid (TRIPLET_ISA=generic|avx2|avx512 caps the choice).
package triplet

import (
	"errors"
	"fmt"
	"math"

	"github.com/tripletmine/triplet/dist"
	"github.com/tripletmine/triplet/internal/scratch"
	"github.com/tripletmine/triplet/mining"
)

// Strategy picks the triplets of a batch; see the constants.
type Strategy = mining.Strategy

// The strategies.
const (
	// BatchAll uses every valid triplet; by default its loss is the sum
	// over triplets divided by the number with a positive loss.
	BatchAll = mining.BatchAll

	// BatchHard uses each anchor's farthest positive and nearest negative;
	// by default its loss is the mean over anchors that have both.
	BatchHard = mining.BatchHard

	// SemiHard uses, for each anchor-positive pair, the nearest negative
	// strictly farther than the positive, or else the farthest negative;
	// by default its loss is the mean over the pairs.
	SemiHard = mining.SemiHard
)

// ParseStrategy reads a strategy name: batchall, batchhard or semihard.
func ParseStrategy(name string) (Strategy, error) { return mining.ParseStrategy(name) }

// ParseMetric reads a metric name: sqeuclidean, euclidean or cosine.
func ParseMetric(name string) (Metric, error) { return dist.ParseMetric(name) }

// Metric is the distance between embeddings; see the constants.
type Metric = dist.Metric

// The metrics.
const (
	// Euclidean is ||x - y||, with gradient 0 at distance 0.
	Euclidean = dist.Euclidean

	// SquaredEuclidean is ||x - y||².
	SquaredEuclidean = dist.SquaredEuclidean

	// Cosine is 1 - cos(x, y); a row of norm 0 is an input error.
	Cosine = dist.Cosine
)

// Reduction turns the losses of the selected triplets into one number.
type Reduction = mining.Reduction

// The reductions.
const (
	// DefaultReduction is the strategy's own; see the strategies.
	DefaultReduction = mining.DefaultReduction

	// MeanReduction divides by all valid items: triplets (batch-all),
	// anchors (batch-hard) or pairs (semi-hard).
	MeanReduction = mining.MeanReduction

	// SumReduction is the plain sum.
	SumReduction = mining.SumReduction
)

// Triplet is a mined (anchor, positive, negative) triplet of row indices.
type Triplet = mining.Triplet

// Stats describes a mined batch: valid anchors, pairs and triplets, the
// selected and active ones, and the mean distances of the selections.
type Stats = mining.Stats

// Config describes a Miner. Its zero value is batch-all with squared
// Euclidean distances and margin 0; most uses set Strategy, Metric and
// Margin.
type Config struct {
	Strategy Strategy
	Metric   Metric

	// Margin is the triplet loss's margin, finite and >= 0.
	Margin float32

	// SoftMargin replaces the hinge by softplus (Hermans' soft margin is
	// SoftMargin with Margin 0).
	SoftMargin bool

	Reduction Reduction

	// Normalize scales every embedding to unit length before the distances
	// (the gradient flows through the scaling); a row of norm 0 is then an
	// input error.
	Normalize bool

	// CollectAll makes batch-all list its triplets with a positive loss in
	// Result.Triplets; there can be millions. The other strategies always
	// list theirs.
	CollectAll bool

	// WithBatch makes MineRefs take positives and negatives from the batch
	// as well as from the references; MineBank always does, and Mine
	// ignores it.
	WithBatch bool

	// Workers is the number of goroutines a call may use; 0 means
	// GOMAXPROCS. Results do not depend on it.
	Workers int
}

// Result is what Mine returns. It belongs to the Miner, and its slices are
// overwritten by the Miner's next call.
type Result struct {
	// Loss is the reduced triplet loss.
	Loss float64

	// Triplets lists the selected triplets: one per valid anchor for
	// batch-hard, one per anchor-positive pair for semi-hard, and for
	// batch-all, with CollectAll, those with a positive loss.
	Triplets []Triplet

	Stats Stats
}

// ErrInput is wrapped by every error that reports bad input to Mine or a
// bad Config to NewMiner; the message names the row, index or length.
var ErrInput = errors.New("triplet: bad input")

// A Miner mines batches with one Config. It keeps its scratch space
// between calls, so that after the first call, calls with the same shapes
// allocate nothing. A Miner must not be used by two goroutines at once;
// give each goroutine its own.
type Miner struct {
	cfg    Config
	calc   dist.Calculator
	mine   mining.Miner
	result Result

	dists  []float32
	unit   []float32 // the rows scaled to unit length, with Normalize
	norms  []float32 // their norms
	gradIn []float32 // dL/d(rows the distances saw)
}

// NewMiner returns a Miner for cfg, or an error naming what cfg gets wrong.
func NewMiner(cfg Config) (*Miner, error) {
	if _, err := dist.ParseMetric(cfg.Metric.String()); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInput, err)
	}
	probe := mining.Config{Strategy: cfg.Strategy, Margin: cfg.Margin,
		Reduction: cfg.Reduction}
	if err := probe.Check(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInput, err)
	}
	return &Miner{cfg: cfg, calc: dist.Calculator{Metric: cfg.Metric, Workers: cfg.Workers}}, nil
}

// Config returns the Miner's configuration.
func (m *Miner) Config() Config { return m.cfg }

// Mine mines one batch: embeddings holds n rows of dim float32 (row-major)
// and labels the n rows' class labels. It returns the loss, the selected
// triplets and statistics, and, when grad is not nil, writes dL/d
// embeddings into grad (same layout as embeddings, overwritten).
//
// A batch without a valid triplet (one class, or only singletons) is not
// an error: its loss is 0, its gradient 0, its counts 0. Mine returns an
// error wrapping ErrInput, and leaves grad alone, if dim < 1, if
// len(embeddings) is not a multiple of dim, if there are fewer than 2 rows,
// if labels or grad have another length, or if an embedding holds NaN or
// ±Inf, has a norm so large that distances would overflow float32, or has
// norm 0 under the cosine metric or Normalize. It never modifies
// embeddings or labels.
func (m *Miner) Mine(embeddings []float32, dim int, labels []int32, grad []float32) (*Result,
	error) {

	if err := checkShapes(embeddings, dim, labels, grad, 2); err != nil {
		return nil, err
	}
	n := len(labels)
	rows := embeddings
	if m.cfg.Normalize {
		var err error
		if rows, err = m.normalize(embeddings, dim); err != nil {
			return nil, err
		}
	}

	var err error
	m.dists, err = m.calc.Pairwise(m.dists, rows, dim)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInput, err)
	}
	cfg := mining.Config{Strategy: m.cfg.Strategy, Margin: m.cfg.Margin,
		SoftMargin: m.cfg.SoftMargin, Reduction: m.cfg.Reduction,
		CollectAll: m.cfg.CollectAll, Workers: m.cfg.Workers}
	mined, err := m.mine.Mine(cfg, m.dists, labels)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInput, err)
	}

	if grad != nil {
		if err := m.backward(mined, rows, dim, n); err != nil {
			return nil, err
		}
	}
	return m.finish(mined, grad, dim), nil
}

// finish writes the gradient in m.gradIn, carried back through the
// normalisation if there was one, into grad (unless grad is nil), and
// returns the Result of mined.
func (m *Miner) finish(mined *mining.Result, grad []float32, dim int) *Result {
	if grad != nil {
		if m.cfg.Normalize {
			m.throughNormalization(grad, dim)
		} else {
			copy(grad, m.gradIn)
		}
	}
	m.result = Result{Loss: mined.Loss, Triplets: mined.Triplets, Stats: mined.Stats}
	return &m.result
}

// checkShapes reports the first length that does not fit, or fewer rows
// than minRows.
func checkShapes(embeddings []float32, dim int, labels []int32, grad []float32,
	minRows int) error {

	switch {
	case dim < 1:
		return fmt.Errorf("%w: dim %d < 1", ErrInput, dim)
	case len(embeddings)%dim != 0:
		return fmt.Errorf("%w: %d embedding values are not a multiple of dim %d",
			ErrInput, len(embeddings), dim)
	case len(embeddings)/dim < minRows:
		return fmt.Errorf("%w: %d rows; mining needs at least %d", ErrInput,
			len(embeddings)/dim, minRows)
	case len(labels) != len(embeddings)/dim:
		return fmt.Errorf("%w: %d labels for %d rows", ErrInput, len(labels), len(embeddings)/dim)
	case grad != nil && len(grad) != len(embeddings):
		return fmt.Errorf("%w: grad has %d values, want %d", ErrInput, len(grad), len(embeddings))
	}
	return nil
}

// backward leaves dL/d(rows the distances saw) in m.gradIn.
func (m *Miner) backward(mined *mining.Result, rows []float32, dim, n int) error {
	m.gradIn = scratch.Grow(m.gradIn, n*dim)
	clear(m.gradIn)
	var err error
	if mined.Weights != nil {
		err = m.calc.PairwiseGrad(m.gradIn, rows, dim, m.dists, mined.Weights)
	} else {
		err = m.calc.PairwiseGradSparse(m.gradIn, rows, dim, mined.Entries)
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInput, err)
	}
	return nil
}

// normalize scales each row to unit length into m.unit and returns it.
func (m *Miner) normalize(embeddings []float32, dim int) ([]float32, error) {
	n := len(embeddings) / dim
	m.unit, m.norms = scratch.Grow(m.unit, n*dim), scratch.Grow(m.norms, n)
	for i := range n {
		row := embeddings[i*dim : (i+1)*dim]
		var sum float64
		for k, v := range row {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("%w: embedding row %d, column %d is %v", ErrInput, i, k, v)
			}
			sum += float64(v) * float64(v)
		}
		if sum == 0 {
			return nil, fmt.Errorf("%w: embedding row %d has norm 0 and cannot be normalized",
				ErrInput, i)
		}
		norm := math.Sqrt(sum)
		m.norms[i] = float32(norm)
		for k, v := range row {
			m.unit[i*dim+k] = float32(float64(v) / norm)
		}
	}
	return m.unit, nil
}

// throughNormalization writes into grad the gradient with respect to the
// embeddings, given m.gradIn with respect to the unit rows x̂ = x/||x||:
// (g - x̂·(x̂·g)) / ||x||.
func (m *Miner) throughNormalization(grad []float32, dim int) {
	for i, norm := range m.norms {
		x := m.unit[i*dim : (i+1)*dim]
		g := m.gradIn[i*dim : (i+1)*dim]
		var along float64
		for k := range x {
			along += float64(x[k]) * float64(g[k])
		}
		for k := range x {
			grad[i*dim+k] = float32((float64(g[k]) - along*float64(x[k])) / float64(norm))
		}
	}
}
