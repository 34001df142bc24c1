// Package mining runs the triplet mining strategies over a matrix of
// distances between the embeddings of a batch and their labels: batch-all,
// batch-hard and semi-hard. For each it computes the loss, its gradient
// with respect to the distances (for the backward pass of package dist),
// the selected triplets and statistics.
//
// For anchor a, the positives are the other rows with a's label and the
// negatives the rows with another label. A triplet (a, p, n) has loss
// h(d(a,p) - d(a,n) + margin), with h the hinge max(z, 0) or, with a soft
// margin, the softplus log(1 + eˣ). Ties between distances go to the lowest
// index; a selection with no candidate is -1. The hinge's derivative at
// exactly 0 is 0, and selections are constants of the gradient.
//
// MineRefs mines a batch against references (a gallery, or the rows of a
// Bank, a cross-batch memory) without holding the anchors-by-references
// distance matrix: it computes it block by block from the embeddings and
// reduces each block as it comes, and returns the gradient with respect to
// the batch rows itself.
package mining

import (
	"errors"
	"fmt"
	"math"
)

// Strategy is the rule that picks the triplets of a batch.
type Strategy int

const (
	// BatchAll takes every valid triplet (a, p, n). Its default reduction
	// averages over the triplets with a positive loss (Moindrot;
	// pytorch-metric-learning's AvgNonZeroReducer). It runs in O(n²·K)
	// time for classes of K samples and O(n²) memory.
	BatchAll Strategy = iota

	// BatchHard takes, for each anchor with a positive and a negative, its
	// farthest positive and its nearest negative (Hermans, Beyer and Leibe
	// 2017). Its default reduction averages over those anchors.
	BatchHard

	// SemiHard takes, for each anchor-positive pair, the nearest negative
	// strictly farther than the positive, or the farthest negative if none
	// is (FaceNet, as TensorFlow Addons defines it). Its default reduction
	// averages over the pairs.
	SemiHard
)

// String returns the strategy's name as ParseStrategy reads it.
func (s Strategy) String() string {
	switch s {
	case BatchAll:
		return "batchall"
	case BatchHard:
		return "batchhard"
	case SemiHard:
		return "semihard"
	}
	return fmt.Sprintf("Strategy(%d)", int(s))
}

// ParseStrategy reads a strategy name: batchall, batchhard or semihard.
func ParseStrategy(name string) (Strategy, error) {
	for s := BatchAll; s <= SemiHard; s++ {
		if s.String() == name {
			return s, nil
		}
	}
	return 0, fmt.Errorf("%w %q (want batchall, batchhard or semihard)", ErrStrategy, name)
}

// Reduction turns the losses of the selected triplets into one number.
type Reduction int

const (
	// DefaultReduction is the strategy's own: batch-all divides the sum by
	// the number of triplets with a positive loss (0 when there are none),
	// batch-hard by the number of valid anchors, semi-hard by the number of
	// anchor-positive pairs.
	DefaultReduction Reduction = iota

	// MeanReduction divides the sum by the number of valid items: all valid
	// triplets for batch-all, valid anchors for batch-hard, pairs for
	// semi-hard.
	MeanReduction

	// SumReduction is the plain sum.
	SumReduction
)

// String returns the reduction's name.
func (r Reduction) String() string {
	switch r {
	case DefaultReduction:
		return "default"
	case MeanReduction:
		return "mean"
	case SumReduction:
		return "sum"
	}
	return fmt.Sprintf("Reduction(%d)", int(r))
}

// Config says how to mine.
type Config struct {
	Strategy Strategy

	// Margin is the margin of the triplet loss, finite and >= 0.
	Margin float32

	// SoftMargin replaces the hinge max(z, 0) by softplus(z); Hermans'
	// soft-margin loss is SoftMargin with Margin 0. Every triplet then has
	// a positive loss.
	SoftMargin bool

	Reduction Reduction

	// CollectAll makes batch-all list its triplets with a positive loss in
	// Result.Triplets; there can be millions. The other strategies always
	// list theirs.
	CollectAll bool

	// WithBatch makes MineRefs take each anchor's candidates from the
	// batch as well as from the references. Mine ignores it.
	WithBatch bool

	// UnitRefs makes MineRefs and MineBank require references of norm 1
	// (squared norm within 1e-4 of 1), as when the batch is normalised
	// before mining: a reference of another norm is an ErrNotUnit error.
	UnitRefs bool

	// Workers is the number of goroutines a call may use; 0 means
	// GOMAXPROCS. Results do not depend on it.
	Workers int
}

// The errors that Mine wraps, so that callers can tell them apart with
// errors.Is.
var (
	ErrStrategy  = errors.New("mining: unknown strategy")
	ErrReduction = errors.New("mining: unknown reduction")
	ErrMargin    = errors.New("mining: margin must be finite and >= 0")
	ErrShape     = errors.New("mining: bad shape")
	ErrNotFinite = errors.New("mining: distance not finite")
)

// Check reports what is wrong with a configuration, if anything.
func (c Config) Check() error {
	switch {
	case c.Strategy < BatchAll || c.Strategy > SemiHard:
		return fmt.Errorf("%w %v", ErrStrategy, c.Strategy)
	case c.Reduction < DefaultReduction || c.Reduction > SumReduction:
		return fmt.Errorf("%w %v", ErrReduction, c.Reduction)
	case !(c.Margin >= 0) || math.IsInf(float64(c.Margin), 0):
		return fmt.Errorf("%w, got %v", ErrMargin, c.Margin)
	}
	return nil
}

// active reports whether a triplet with the given loss counts as active:
// with the hinge when its loss is positive, and with a soft margin always,
// since softplus is positive everywhere (even where float64 rounds it to
// 0, for z below about -745).
func (c Config) active(loss float64) bool {
	return loss > 0 || c.SoftMargin
}

// hinge returns the loss of a triplet whose z = d(a,p) - d(a,n) + margin,
// and its derivative with respect to z: max(z, 0) with derivative 0 at 0,
// or softplus(z) = log(1 + eᶻ) with derivative 1/(1 + e⁻ᶻ).
func (c Config) hinge(z float64) (loss, slope float64) {
	if !c.SoftMargin {
		if z > 0 {
			return z, 1
		}
		return 0, 0
	}
	if z > 0 {
		return z + math.Log1p(math.Exp(-z)), 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return math.Log1p(e), e / (1 + e)
}
