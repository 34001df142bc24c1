package bench_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tripletmine/triplet"
	"github.com/tripletmine/triplet/asm"
	"github.com/tripletmine/triplet/bench"
)

var strategies = []triplet.Strategy{triplet.BatchAll, triplet.BatchHard, triplet.SemiHard}

// TestGonumCrossChecks checks the gonum version against the losses and
// selections that any correct implementation reproduces.
func TestGonumCrossChecks(t *testing.T) {
	labels := []int32{0, 0, 1, 1, 0, 2}
	e := []float32{0, 1, 0.5, 3, 2.5, 1.25}
	want := map[triplet.Strategy]float64{
		triplet.BatchAll: 1.8125, triplet.BatchHard: 2.85, triplet.SemiHard: 0.71875}
	for _, s := range strategies {
		g := bench.GonumMiner{Strategy: s, Margin: 1}
		r, err := g.Mine(e, 1, labels, make([]float32, len(e)))
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(r.Loss-want[s]) > 1e-12 {
			t.Errorf("%v: loss %v, want %v", s, r.Loss, want[s])
		}
	}

	g := bench.GonumMiner{Strategy: triplet.BatchHard, Margin: 1}
	r, err := g.Mine([]float32{0, 1, 2, 3, 4, 5, 6, 7, 8}, 1,
		[]int32{0, 0, 1, 1, 0, 2, 1, 1, 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var anchors, positives, negatives []int32
	for _, tr := range r.Triplets {
		anchors = append(anchors, tr.Anchor)
		positives = append(positives, tr.Positive)
		negatives = append(negatives, tr.Negative)
	}
	if !slices.Equal(anchors, []int32{0, 1, 2, 3, 4, 6, 7, 8}) ||
		!slices.Equal(positives, []int32{4, 4, 8, 8, 0, 2, 2, 2}) ||
		!slices.Equal(negatives, []int32{2, 2, 1, 4, 3, 5, 5, 5}) {
		t.Errorf("batch-hard selections %v", r.Triplets)
	}

	g = bench.GonumMiner{Strategy: triplet.BatchAll, Margin: 1}
	r, err = g.Mine([]float32{1, 2, 3}, 1, []int32{4, 4, 4}, nil)
	if err != nil || r.Loss != 0 || r.Selected != 0 {
		t.Errorf("one class: loss %v over %d triplets, error %v", r.Loss, r.Selected, err)
	}
}

// batch is a test batch: its embeddings, their dimension and labels.
type batch struct {
	name       string
	embeddings []float32
	dim        int
	labels     []int32
}

// testBatches returns PK batches and batches with singletons and
// classes of uneven sizes.
func testBatches() []batch {
	rng := rand.New(rand.NewPCG(7, 11))
	var batches []batch
	for _, shape := range []struct{ classes, k, dim int }{
		{8, 4, 16}, {5, 3, 8}, {3, 2, 5}, {16, 4, 32},
	} {
		for seed := range 3 {
			e, labels := bench.PKBatch(rng, shape.classes, shape.k, shape.dim)
			batches = append(batches, batch{
				fmt.Sprintf("P=%d/K=%d/d=%d/%d", shape.classes, shape.k, shape.dim, seed),
				e, shape.dim, labels})
		}
	}
	for seed := range 3 {
		const n, dim = 24, 6
		labels := make([]int32, n)
		e := make([]float32, n*dim)
		for i := range labels {
			labels[i] = int32(rng.IntN(9))
		}
		for i := range e {
			e[i] = float32(rng.NormFloat64())
		}
		batches = append(batches, batch{fmt.Sprintf("uneven/%d", seed), e, dim, labels})
	}
	return batches
}

// TestGonumMatchesLibrary checks that the gonum version computes what the
// library computes, at every level the machine offers: the same selections
// and counts, the loss within 1e-5 (relative) and every gradient value
// within 1e-4 of the largest. The library computes distances in float32
// from differences, the gonum version in float64 from the Gram matrix,
// so the two agree to float32 rounding.
func TestGonumMatchesLibrary(t *testing.T) {
	for _, level := range asm.Levels() {
		t.Run("isa="+level.String(), func(t *testing.T) {
			restore, err := asm.SetLevel(level)
			if err != nil {
				t.Fatal(err)
			}
			defer restore()
			t.Logf("library at level %v", asm.Current())

			for _, s := range strategies {
				for _, b := range testBatches() {
					compare(t, s, b)
				}
			}
		})
	}
}

func compare(t *testing.T, s triplet.Strategy, b batch) {
	t.Helper()
	const margin = 0.2
	m, err := triplet.NewMiner(triplet.Config{Strategy: s, Metric: triplet.Euclidean,
		Margin: margin})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float32, len(b.embeddings))
	lib, err := m.Mine(b.embeddings, b.dim, b.labels, want)
	if err != nil {
		t.Fatal(err)
	}

	g := bench.GonumMiner{Strategy: s, Margin: margin}
	got := make([]float32, len(b.embeddings))
	gon, err := g.Mine(b.embeddings, b.dim, b.labels, got)
	if err != nil {
		t.Fatal(err)
	}

	what := fmt.Sprintf("%v %s", s, b.name)
	if gon.Selected != lib.Stats.Selected || gon.Active != lib.Stats.Active {
		t.Errorf("%s: gonum selects %d triplets, %d active; library %d, %d", what,
			gon.Selected, gon.Active, lib.Stats.Selected, lib.Stats.Active)
	}
	if s != triplet.BatchAll && !slices.Equal(gon.Triplets, lib.Triplets) {
		t.Errorf("%s: gonum selects %v, library %v", what, gon.Triplets, lib.Triplets)
	}
	if math.Abs(gon.Loss-lib.Loss) > 1e-5*max(1, math.Abs(lib.Loss)) {
		t.Errorf("%s: gonum loss %v, library %v", what, gon.Loss, lib.Loss)
	}

	var largest, worst float64
	for i := range want {
		largest = max(largest, math.Abs(float64(want[i])))
		worst = max(worst, math.Abs(float64(got[i])-float64(want[i])))
	}
	if lib.Stats.Active > 0 && largest == 0 {
		t.Errorf("%s: %d active triplets and a zero gradient", what, lib.Stats.Active)
	}
	if worst > 1e-4*largest {
		t.Errorf("%s: gradients differ by up to %v, largest value %v", what, worst, largest)
	}
}
