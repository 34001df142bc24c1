// Command digits trains a small embedding network on handwritten digits
// with the triplet loss and gradient of package triplet, on PK batches of
// package sampler, and shows that it works: after every epoch it prints
// the loss, the fraction of active triplets and the held-out Recall@1 (the
// fraction of held-out images whose nearest other held-out image shows the
// same digit), and at the end it compares the trained 8-dimensional
// embeddings with a random projection, PCA and the untrained network.
//
// The data are the 1,797 8×8 images of the UCI "Optical Recognition of
// Handwritten Digits" test set (see DATA.md), split 70/30 per digit.
//
//	go run .                           # batch-hard, batch-all and semi-hard
//	go run . -strategies batchhard -epochs 10 -svg curves.svg
package main

import (
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/tripletmine/triplet/dist"
	"github.com/tripletmine/triplet/mining"
)

func main() {
	opt := options{}
	flag.IntVar(&opt.epochs, "epochs", 40, "training epochs per strategy")
	flag.Uint64Var(&opt.seed, "seed", 1,
		"seed of the weights, the batches and the random projection")
	flag.Float64Var(&opt.margin, "margin", 0.2,
		"the triplet loss's margin, between unit-length embeddings")
	flag.Float64Var(&opt.rate, "rate", 0.005, "Adam's learning rate")
	flag.IntVar(&opt.p, "p", 10, "digits per batch")
	flag.IntVar(&opt.k, "k", 8, "images of each digit per batch")
	strategies := flag.String("strategies", "batchhard,batchall,semihard",
		"comma-separated strategies to train with: batchhard, batchall, semihard")
	svg := flag.String("svg", "", "write Recall@1 and loss per epoch to this SVG file")
	flag.Parse()

	if err := run(os.Stdout, opt, strings.Split(*strategies, ","), *svg); err != nil {
		fmt.Fprintln(os.Stderr, "digits:", err)
		os.Exit(1)
	}
}

// untrainedNetwork returns the network that training starts from: 64
// pixels, 64 hidden units, 8 dimensions, with weights drawn from the seed.
func untrainedNetwork(seed uint64) *model {
	return newModel(pixels, 64, 8, rand.New(rand.NewPCG(seed, 1)))
}

// A row of the final table.
type result struct {
	name     string
	dims     int
	distance string
	recall   float64
}

// A learningCurve is what each epoch of one strategy's training measured.
type learningCurve struct {
	strategy string
	history  []epoch
}

// run loads and splits the data, measures the baselines, trains a network
// with each named strategy while printing every epoch to w, prints the
// table of held-out Recall@1 and, if svgFile is not empty, draws there the
// learning curves.
func run(w io.Writer, opt options, strategyNames []string, svgFile string) error {
	var strategies []mining.Strategy
	for _, name := range strategyNames {
		s, err := mining.ParseStrategy(strings.TrimSpace(name))
		if err != nil {
			return err
		}
		strategies = append(strategies, s)
	}

	all, err := loadDigits()
	if err != nil {
		return err
	}
	trainSet, heldOut := split(all)
	fmt.Fprintf(w, "%d images: %d to train on, %d held out\n\n", all.len(), trainSet.len(),
		heldOut.len())

	const dims = 8
	euclidean := dist.Calculator{Metric: dist.Euclidean}
	cosine := dist.Calculator{Metric: trainedMetric}
	var results []result
	measure := func(name string, calc *dist.Calculator, emb []float32, dim int) error {
		recall, err := recallAt1(calc, emb, dim, heldOut.labels)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		results = append(results, result{name, dim, calc.Metric.String(), recall})
		return nil
	}

	if err := measure("raw pixels", &euclidean, heldOut.images, pixels); err != nil {
		return err
	}
	random := randomProjection(dims, rand.New(rand.NewPCG(opt.seed, 2)))
	if err := measure("random projection", &euclidean, random.apply(heldOut), dims); err != nil {
		return err
	}
	principal, err := pca(trainSet, dims)
	if err != nil {
		return err
	}
	if err := measure("PCA", &euclidean, principal.apply(heldOut), dims); err != nil {
		return err
	}
	untrained := untrainedNetwork(opt.seed)
	err = measure("untrained network", &cosine, embed(untrained, heldOut), untrained.out)
	if err != nil {
		return err
	}

	var curves []learningCurve
	for _, strategy := range strategies {
		start := time.Now()
		trained, history, err := train(untrained, strategy, opt, trainSet, heldOut,
			func(e int, r epoch) {
				fmt.Fprintf(w, "%-9s epoch %2d: loss %.4f, active %.3f, held-out Recall@1 %.4f\n",
					strategy, e, r.loss, r.active, r.recall)
			})
		if err != nil {
			return fmt.Errorf("%v: %w", strategy, err)
		}
		fmt.Fprintf(w, "%v: %d epochs in %.1f s\n\n", strategy, opt.epochs,
			time.Since(start).Seconds())
		curves = append(curves, learningCurve{strategy.String(), history})
		name := fmt.Sprintf("network trained with %v", strategy)
		if err := measure(name, &cosine, embed(trained, heldOut), trained.out); err != nil {
			return err
		}
	}

	fmt.Fprintln(w, "| embedding of the held-out images | dims | distance | Recall@1 |")
	fmt.Fprintln(w, "| --- | ---: | --- | ---: |")
	for _, r := range results {
		fmt.Fprintf(w, "| %s | %d | %s | %.4f |\n", r.name, r.dims, r.distance, r.recall)
	}

	if svgFile != "" && len(curves) > 0 {
		if err := plotCurves(svgFile, curves); err != nil {
			return err
		}
		fmt.Fprintln(w, "\nwrote", svgFile)
	}
	return nil
}
