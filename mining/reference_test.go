package mining_test

import (
	"github.com/tripletmine/triplet/internal/fullmatrix"
	"github.com/tripletmine/triplet/mining"
)

// refResult is what the float64 reference computes for a batch.
type refResult struct {
	loss     float64
	grad     []float64 // dL/dD, n×n
	triplets []mining.Triplet
	stats    mining.Stats
}

// refHinge is the loss of one triplet and its derivative, from the
// definitions.
var refHinge = fullmatrix.Hinge

// refMine mines a batch with the definitions: the full-matrix reference
// with the batch's rows as the only candidates.
func refMine(cfg mining.Config, d []float32, labels []int32) refResult {
	cfg.WithBatch = true
	c := &fullmatrix.Case{D: d, Batch: mining.Batch{Labels: labels}}
	want := c.Mine(cfg)
	return refResult{loss: want.Loss, grad: want.DLdD, triplets: want.Triplets,
		stats: want.Stats}
}

// refLossAt recomputes the reference loss with the selections held fixed
// and the distances moved to d: the function whose derivative the
// gradient is.
func refLossAt(cfg mining.Config, triplets []mining.Triplet, d []float64, n int,
	divisor float64) float64 {

	var total float64
	for _, t := range triplets {
		loss, _ := refHinge(cfg.SoftMargin,
			d[int(t.Anchor)*n+int(t.Positive)]-d[int(t.Anchor)*n+int(t.Negative)]+float64(cfg.Margin))
		total += loss
	}
	return total / divisor
}
