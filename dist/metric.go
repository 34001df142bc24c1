// Package dist computes distance matrices between embeddings (squared
// Euclidean, Euclidean and cosine), pairwise within a batch or between
// queries and a set of references, and their backward pass: the gradient
// of a loss with respect to the embeddings, given its gradient with respect
// to the distances.
//
// A Calculator holds the metric, the worker count and scratch space, so
// that calls with the shapes of an earlier call allocate nothing. The work
// is tiled so that the rows being compared stay in cache, and split across
// goroutines; every distance is computed the same way whatever the tiling
// and the worker count, so results are identical bit for bit for any
// worker count.
//
// Distances are computed from differences, never from the expansion
// ||x||² + ||y||² - 2x·y, which loses all precision between near-duplicate
// rows of large norm: identical rows are exactly 0 apart and no distance
// is negative.
package dist

import (
	"errors"
	"fmt"
)

// Metric is a distance between two embeddings.
type Metric int

const (
	// SquaredEuclidean is ||x - y||².
	SquaredEuclidean Metric = iota

	// Euclidean is ||x - y||. Its gradient at distance 0 is taken as 0.
	Euclidean

	// Cosine is 1 - cos(x, y), computed as ||x̂ - ŷ||²/2 on the rows scaled
	// to unit length (TensorFlow's angular distance), so it lies in [0, 2]
	// and identical directions are exactly 0 apart. A row of norm 0 has no
	// direction and is an input error.
	Cosine
)

// String returns the metric's name as ParseMetric reads it.
func (m Metric) String() string {
	switch m {
	case SquaredEuclidean:
		return "sqeuclidean"
	case Euclidean:
		return "euclidean"
	case Cosine:
		return "cosine"
	}
	return fmt.Sprintf("Metric(%d)", int(m))
}

// ParseMetric reads a metric name: sqeuclidean, euclidean or cosine.
func ParseMetric(name string) (Metric, error) {
	for m := SquaredEuclidean; m <= Cosine; m++ {
		if m.String() == name {
			return m, nil
		}
	}
	return 0, fmt.Errorf("%w %q (want sqeuclidean, euclidean or cosine)", ErrMetric, name)
}

// The errors that the functions of this package wrap, so that callers can
// tell them apart with errors.Is.
var (
	// ErrMetric: the metric is not one of the constants above.
	ErrMetric = errors.New("dist: unknown metric")

	// ErrShape: a dimension is below 1, or a slice's length does not fit
	// the shape of the others.
	ErrShape = errors.New("dist: bad shape")

	// ErrNotFinite: an input holds NaN or ±Inf, or a gradient came out
	// that way.
	ErrNotFinite = errors.New("dist: value not finite")

	// ErrTooLarge: a row's norm is so large that distances could overflow
	// float32.
	ErrTooLarge = errors.New("dist: norm too large")

	// ErrZeroNorm: the cosine metric met a row of norm 0.
	ErrZeroNorm = errors.New("dist: row of norm 0")
)
