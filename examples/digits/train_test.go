package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tripletmine/triplet"
	"github.com/tripletmine/triplet/dist"
)

func TestLoadAndSplit(t *testing.T) {
	all, err := loadDigits()
	if err != nil {
		t.Fatal(err)
	}
	if all.len() != 1797 || len(all.images) != 1797*pixels {
		t.Fatalf("%d images and %d pixel values, want 1797 images", all.len(), len(all.images))
	}

	train, test := split(all)
	if train.len()+test.len() != all.len() {
		t.Fatalf("split into %d + %d images, want %d", train.len(), test.len(), all.len())
	}
	count := func(d dataset) map[int32]int {
		n := map[int32]int{}
		for _, label := range d.labels {
			n[label]++
		}
		return n
	}
	whole, inTrain := count(all), count(train)
	for digit := range int32(10) {
		if want := (whole[digit]*7 + 5) / 10; inTrain[digit] != want {
			t.Errorf("digit %d: %d of %d images to train on, want %d", digit,
				inTrain[digit], whole[digit], want)
		}
	}

	again, _ := split(all)
	if !equalFloats(again.images, train.images) {
		t.Error("two splits differ")
	}
}

func equalFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRecallAt1(t *testing.T) {
	// Row 2 is as near to row 0 (another digit) as to row 3 (its own):
	// the tie goes to row 0, a miss. Row 4 is nearest to row 3, a miss.
	emb := []float32{0, 1, 2, 3, 4.5}
	labels := []int32{0, 0, 1, 1, 0}
	calc := dist.Calculator{Metric: dist.Euclidean}
	got, err := recallAt1(&calc, emb, 1, labels)
	if err != nil {
		t.Fatal(err)
	}
	if want := 3.0 / 5; got != want {
		t.Errorf("Recall@1 = %v, want %v", got, want)
	}
}

func TestPCA(t *testing.T) {
	// Points spread along (1, 1, 0, …) and less along (1, -1, 0, …): the
	// first direction is the diagonal, the second the anti-diagonal.
	rng := rand.New(rand.NewPCG(1, 1))
	var d dataset
	for range 500 {
		a, b := 3*rng.NormFloat64(), rng.NormFloat64()
		img := make([]float32, pixels)
		img[0], img[1] = float32(5+a+b), float32(5+a-b)
		d.images = append(d.images, img...)
		d.labels = append(d.labels, 0)
	}
	p, err := pca(d, 2)
	if err != nil {
		t.Fatal(err)
	}
	first, second := p.w[:pixels], p.w[pixels:]
	if abs(first[0]*first[1]-0.5) > 0.01 || abs(second[0]*second[1]+0.5) > 0.01 {
		t.Errorf("directions start %.3f and %.3f, want ±(0.707, 0.707) and ±(0.707, -0.707)",
			first[:2], second[:2])
	}
}

func abs(x float64) float64 { return max(x, -x) }

// TestTrainingImproves trains briefly with each strategy and requires
// held-out Recall@1 to beat the untrained network's by a wide margin.
//
// The margin: with seed 1 the untrained network scores 0.65 and the full
// 40-epoch runs of README.md 0.97 to 0.98, a gain above 0.3. After the 10
// epochs trained here, seeds 1 to 20 gained between 0.17 (seed 11, whose
// untrained network starts at 0.79) and 0.35, and none scored below 0.93.
// A gain of at least 0.15 to a score of at least 0.90 is thus well inside
// what training delivers, and far from what a network that has not learnt
// scores (the untrained ones and the random projections of those seeds
// scored 0.61 to 0.81). It also leaves room for the small differences
// between the library's instruction-set levels, whose float32 sums differ
// in the last bits and may steer training elsewhere.
func TestTrainingImproves(t *testing.T) {
	all, err := loadDigits()
	if err != nil {
		t.Fatal(err)
	}
	trainSet, heldOut := split(all)
	untrained := untrainedNetwork(1)
	calc := dist.Calculator{Metric: trainedMetric}
	before, err := recallAt1(&calc, embed(untrained, heldOut), untrained.out,
		heldOut.labels)
	if err != nil {
		t.Fatal(err)
	}

	opt := options{epochs: 10, seed: 1, margin: 0.2, rate: 0.005, p: 10, k: 8}
	for _, strategy := range []triplet.Strategy{triplet.BatchHard, triplet.BatchAll,
		triplet.SemiHard} {

		_, history, err := train(untrained, strategy, opt, trainSet, heldOut, nil)
		if err != nil {
			t.Fatal(err)
		}
		last := history[len(history)-1]
		t.Logf("%v: Recall@1 %.4f untrained, %.4f after %d epochs (loss %.4f, active %.3f)",
			strategy, before, last.recall, opt.epochs, last.loss, last.active)
		if last.recall < before+0.15 || last.recall < 0.9 {
			t.Errorf("%v: held-out Recall@1 went from %.4f to %.4f, want a gain of 0.15 "+
				"to at least 0.90", strategy, before, last.recall)
		}
	}
}

// TestRun runs the whole command for one short epoch and checks that it
// prints the table and writes the SVG.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	svg := filepath.Join(t.TempDir(), "curves.svg")
	opt := options{epochs: 1, seed: 1, margin: 0.2, rate: 0.005, p: 10, k: 8}
	if err := run(&out, opt, []string{"batchhard", " semihard"}, svg); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| raw pixels | 64 | euclidean |", "| PCA | 8 | euclidean |",
		"| network trained with semihard | 8 | cosine |", "wrote " + svg} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if b, err := os.ReadFile(svg); err != nil || !bytes.Contains(b, []byte("<svg")) {
		t.Errorf("no SVG in %s (%v)", svg, err)
	}

	if err := run(&out, opt, []string{"hardest"}, ""); err == nil {
		t.Error("an unknown strategy was accepted")
	}
}
