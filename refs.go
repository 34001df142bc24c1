package triplet

import (
	"fmt"

	"github.com/tripletmine/triplet/internal/scratch"
	"github.com/tripletmine/triplet/mining"
)

// Refs is a set of reference embeddings to mine a batch against, with
// their labels and, optionally, their sample ids; see mining.Refs. The
// gradient never flows to references.
type Refs = mining.Refs

// Bank is a cross-batch memory: a ring buffer of the last embeddings
// mined, with their labels and ids, that MineBank mines later batches
// against; see mining.Bank.
type Bank = mining.Bank

// NewBank returns an empty Bank that holds up to capacity rows of dim
// values, allocated at once, and that MineBank starts to mine against once
// it holds minRows rows.
func NewBank(capacity, dim, minRows int) (*Bank, error) {
	b, err := mining.NewBank(capacity, dim, minRows)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInput, err)
	}
	return b, nil
}

// MineRefs mines a batch against a set of references: the batch rows
// (embeddings, n rows of dim values, with labels and optional sample ids)
// are the anchors, and their positives and negatives come from refs and,
// with Config.WithBatch, from the batch itself. It returns the loss, the
// selections and statistics, and, when grad is not nil, writes dL/d
// embeddings into grad; the references are constants.
//
// Triplets number the candidates as the batch rows followed by the
// references: index i < n is batch row i, index n + j is reference j. A
// reference with an anchor's id is never its candidate; within the batch,
// rows are told apart by position, as in Mine.
//
// MineRefs never holds the n×m distance matrix: it streams the references
// in blocks, so that its memory is O((n + m)·dim) whatever m is, and it
// gives the selections and, to rounding, the loss and gradient of Mine
// applied to the full matrix. With Normalize the references must already
// have unit norm (as a Bank filled by MineBank holds them). Batch-all with
// a soft margin is much slower than with the hinge, and CollectAll is not
// supported.
//
// MineRefs returns an error wrapping ErrInput, and leaves grad alone, for
// input that Mine refuses (but one row is enough), ids or reference labels
// of the wrong length, references that are not finite, too large, of norm
// 0 under cosine or, with Normalize, not of norm 1, and CollectAll.
func (m *Miner) MineRefs(embeddings []float32, dim int, labels []int32, ids []int64,
	refs Refs, grad []float32) (*Result, error) {

	return m.mineRefs(embeddings, dim, labels, ids, func(cfg mining.Config,
		batch mining.Batch, grad []float32) (*mining.Result, error) {
		return m.mine.MineRefs(cfg, m.cfg.Metric, batch, refs, grad)
	}, grad)
}

// MineBank mines a batch against the rows of bank and the batch itself,
// or, until the bank holds the minimum number of rows given to NewBank,
// against the batch alone, and then adds the batch (normalised, with
// Normalize) to the bank. Index n + j in the triplets is the bank's slot
// j. Its errors are those of MineRefs, and also a bank of another dim, and
// ids given where the bank holds none or the other way round; on error
// the bank is left as it was.
func (m *Miner) MineBank(embeddings []float32, dim int, labels []int32, ids []int64,
	bank *Bank, grad []float32) (*Result, error) {

	if bank == nil {
		return nil, fmt.Errorf("%w: nil bank", ErrInput)
	}
	return m.mineRefs(embeddings, dim, labels, ids, func(cfg mining.Config,
		batch mining.Batch, grad []float32) (*mining.Result, error) {
		return m.mine.MineBank(cfg, m.cfg.Metric, batch, bank, grad)
	}, grad)
}

// mineRefs checks and normalises the batch, runs mine on it and carries
// the gradient back to the embeddings.
func (m *Miner) mineRefs(embeddings []float32, dim int, labels []int32, ids []int64,
	mine func(mining.Config, mining.Batch, []float32) (*mining.Result, error),
	grad []float32) (*Result, error) {

	if err := checkShapes(embeddings, dim, labels, grad, 1); err != nil {
		return nil, err
	}
	if ids != nil && len(ids) != len(labels) {
		return nil, fmt.Errorf("%w: %d ids for %d rows", ErrInput, len(ids), len(labels))
	}
	rows := embeddings
	if m.cfg.Normalize {
		var err error
		if rows, err = m.normalize(embeddings, dim); err != nil {
			return nil, err
		}
	}

	cfg := mining.Config{Strategy: m.cfg.Strategy, Margin: m.cfg.Margin,
		SoftMargin: m.cfg.SoftMargin, Reduction: m.cfg.Reduction,
		CollectAll: m.cfg.CollectAll, Workers: m.cfg.Workers,
		WithBatch: m.cfg.WithBatch, UnitRefs: m.cfg.Normalize}
	batch := mining.Batch{Rows: rows, Dim: dim, Labels: labels, IDs: ids}
	var gradIn []float32
	if grad != nil {
		m.gradIn = scratch.Grow(m.gradIn, len(rows))
		clear(m.gradIn)
		gradIn = m.gradIn
	}
	mined, err := mine(cfg, batch, gradIn)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInput, err)
	}
	return m.finish(mined, grad, dim), nil
}
