package main

import (
	"fmt"

	"github.com/tripletmine/triplet"
	"github.com/tripletmine/triplet/dist"
	"github.com/tripletmine/triplet/sampler"
)

// options are the settings of a training run.
type options struct {
	epochs int
	seed   uint64
	margin float64
	rate   float64 // Adam's learning rate
	p, k   int     // classes per batch and images per class
}

// An epoch is what one pass over the training set measured: the mean loss
// and fraction of active triplets over its batches, and Recall@1 on the
// held-out images after it.
type epoch struct {
	loss, active, recall float64
}

// trainedMetric is the distance on the model's embeddings. The Miner
// compares the embeddings scaled to unit length with the Euclidean
// distance; on unit vectors ||x̂ - ŷ||² = 2(1 - cos(x, y)), so the cosine
// distance ranks neighbours as training saw them.
const trainedMetric = dist.Cosine

// train trains a copy of init with the strategy on the training images,
// measuring Recall@1 on the held-out ones after every epoch, and returns
// the trained model and what each epoch measured. progress, if not nil,
// hears of each epoch as it ends.
func train(init *model, strategy triplet.Strategy, opt options, trainSet, heldOut dataset,
	progress func(int, epoch)) (*model, []epoch, error) {

	miner, err := triplet.NewMiner(triplet.Config{Strategy: strategy, Metric: triplet.Euclidean,
		Margin: float32(opt.margin), Normalize: true})
	if err != nil {
		return nil, nil, err
	}
	batches, err := sampler.New(trainSet.labels, sampler.Config{P: opt.p, K: opt.k,
		Seed: opt.seed})
	if err != nil {
		return nil, nil, err
	}

	m := init.clone()
	optimiser := newAdam(opt.rate, len(m.params))
	size := opt.p * opt.k
	var (
		fwd    pass
		images []float32
		emb    = make([]float32, size*m.out)
		dEmb   = make([]float32, size*m.out)
		grad   = make([]float64, len(m.params))
		calc   = dist.Calculator{Metric: trainedMetric}
	)

	history := make([]epoch, 0, opt.epochs)
	for e := range opt.epochs {
		var sum epoch
		count := 0
		for rows, labels := range batches.Batches(batches.BatchesPerEpoch()) {
			images = trainSet.gather(images, rows)
			m.forward(&fwd, images, size, emb)
			res, err := miner.Mine(emb, m.out, labels, dEmb)
			if err != nil {
				return nil, nil, fmt.Errorf("epoch %d: %w", e+1, err)
			}

			clear(grad)
			m.backward(&fwd, dEmb, grad)
			optimiser.step(m.params, grad)
			sum.loss += res.Loss
			sum.active += res.Stats.ActiveFraction
			count++
		}

		sum.loss /= float64(count)
		sum.active /= float64(count)
		sum.recall, err = recallAt1(&calc, embed(m, heldOut), m.out, heldOut.labels)
		if err != nil {
			return nil, nil, fmt.Errorf("epoch %d: %w", e+1, err)
		}
		history = append(history, sum)
		if progress != nil {
			progress(e+1, sum)
		}
	}
	return m, history, nil
}
