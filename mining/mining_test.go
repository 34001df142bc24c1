package mining_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tripletmine/triplet/asm"
	"github.com/tripletmine/triplet/dist"
	"github.com/tripletmine/triplet/internal/kerneltest"
	"github.com/tripletmine/triplet/mining"
)

var strategies = []mining.Strategy{mining.BatchAll, mining.BatchHard, mining.SemiHard}

// distances returns the Euclidean distance matrix of 1-D embeddings.
func distances(t testing.TB, e []float32) []float32 {
	t.Helper()
	c := &dist.Calculator{Metric: dist.Euclidean}
	d, err := c.Pairwise(nil, e, 1)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestCrossChecks reproduces the values that any correct implementation
// gives (margin 1, Euclidean distances).
func TestCrossChecks(t *testing.T) {
	labels := []int32{0, 0, 1, 1, 0, 2}
	e := []float32{0, 1, 0.5, 3, 2.5, 1.25}
	cases := []struct {
		strategy mining.Strategy
		loss     float64
		selected int64
	}{
		{mining.SemiHard, 0.71875, 8},
		{mining.BatchAll, 1.8125, 26},
		{mining.BatchHard, 2.85, 5},
	}
	kerneltest.Run(t, func(t *testing.T, _ asm.Level) {
		d := distances(t, e)
		var m mining.Miner
		for _, c := range cases {
			r, err := m.Mine(mining.Config{Strategy: c.strategy, Margin: 1}, d, labels)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(r.Loss-c.loss) > 1e-6 || r.Stats.Selected != c.selected {
				t.Errorf("%v: loss %v over %d, want %v over %d", c.strategy, r.Loss,
					r.Stats.Selected, c.loss, c.selected)
			}
		}

		// One class only: nothing to mine, and that is no error.
		r, err := m.Mine(mining.Config{Strategy: mining.BatchAll, Margin: 1}, d,
			[]int32{3, 3, 3, 3, 3, 3})
		if err != nil || r.Loss != 0 || r.Stats.Triplets != 0 || slices.ContainsFunc(r.Weights,
			func(w float32) bool { return w != 0 }) {
			t.Errorf("one class: loss %v, %d triplets, error %v", r.Loss, r.Stats.Triplets, err)
		}

		// Ties go to the lowest index: anchor 4 is as far from 3 as from 5.
		labels := []int32{0, 0, 1, 1, 0, 2, 1, 1, 1}
		d = distances(t, []float32{0, 1, 2, 3, 4, 5, 6, 7, 8})
		r, err = m.Mine(mining.Config{Strategy: mining.BatchHard, Margin: 1}, d, labels)
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
			t.Errorf("batch-hard selected anchors %v, positives %v, negatives %v",
				anchors, positives, negatives)
		}
	})
}

// randomBatch returns the Euclidean distances of a PK batch of p classes
// of k samples (some classes smaller, one singleton) in dim dimensions.
func randomBatch(t testing.TB, rng *rand.Rand, p, k, dim int) ([]float32, []int32) {
	var labels []int32
	for c := range p {
		size := k
		if c%3 == 1 {
			size = 1 + rng.IntN(k)
		}
		for range size {
			labels = append(labels, int32(c*7))
		}
	}
	rng.Shuffle(len(labels), func(i, j int) { labels[i], labels[j] = labels[j], labels[i] })
	e := make([]float32, len(labels)*dim)
	for i := range labels {
		for k := range dim {
			e[i*dim+k] = float32(rng.NormFloat64()*0.6 + float64(labels[i]%5)*0.2)
		}
	}
	c := &dist.Calculator{Metric: dist.Euclidean}
	d, err := c.Pairwise(nil, e, dim)
	if err != nil {
		t.Fatal(err)
	}
	return d, labels
}

// denseGrad returns a result's dL/dD as a dense matrix.
func denseGrad(r *mining.Result, n int) []float64 {
	g := make([]float64, n*n)
	for k, w := range r.Weights {
		g[k] = float64(w)
	}
	for _, e := range r.Entries {
		g[int(e.Row)*n+int(e.Col)] += float64(e.Weight)
	}
	return g
}

// TestAgainstReference compares every strategy, margin and reduction at
// every level with the float64 reference on random PK batches. Random
// distances leave no ties within rounding, so selections must be equal.
func TestAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	kerneltest.Run(t, func(t *testing.T, _ asm.Level) {
		var m mining.Miner
		for trial := range 12 {
			d, labels := randomBatch(t, rng, 3+trial, 4, 8)
			n := len(labels)
			for _, s := range strategies {
				for _, soft := range []bool{false, true} {
					for _, red := range []mining.Reduction{mining.DefaultReduction,
						mining.MeanReduction, mining.SumReduction} {
						cfg := mining.Config{Strategy: s, Margin: 0.3, SoftMargin: soft,
							Reduction: red, CollectAll: true}
						what := fmt.Sprintf("trial %d %v soft=%v %v", trial, s, soft, red)
						got, err := m.Mine(cfg, d, labels)
						if err != nil {
							t.Fatal(err)
						}
						want := refMine(cfg, d, labels)
						checkResult(t, what, got, want, n)
					}
				}
			}
		}
	})
}

func checkResult(t *testing.T, what string, got *mining.Result, want refResult, n int) {
	t.Helper()
	if tol := 1e-5 * max(1, math.Abs(want.loss)); math.Abs(got.Loss-want.loss) > tol {
		t.Fatalf("%s: loss %v, want %v", what, got.Loss, want.loss)
	}
	gs, ws := got.Stats, want.stats
	if gs.Anchors != ws.Anchors || gs.Pairs != ws.Pairs || gs.Triplets != ws.Triplets ||
		gs.Selected != ws.Selected || gs.Active != ws.Active ||
		math.Abs(gs.MeanPositive-ws.MeanPositive) > 1e-5 ||
		math.Abs(gs.MeanNegative-ws.MeanNegative) > 1e-5 ||
		math.Abs(gs.ActiveFraction-ws.ActiveFraction) > 1e-12 {
		t.Fatalf("%s: stats %+v, want %+v", what, gs, ws)
	}
	if !slices.Equal(got.Triplets, want.triplets) {
		t.Fatalf("%s: triplets %v, want %v", what, got.Triplets, want.triplets)
	}
	g := denseGrad(got, n)
	for k := range g {
		if math.Abs(g[k]-want.grad[k]) > 1e-6*max(1, math.Abs(want.grad[k])) {
			t.Fatalf("%s: dL/dD[%d][%d] = %v, want %v", what, k/n, k%n, g[k], want.grad[k])
		}
	}
}

// TestReferenceGradient checks the reference's dL/dD against central
// differences of its loss with the selections held fixed.
func TestReferenceGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	d32, labels := randomBatch(t, rng, 4, 3, 5)
	n := len(labels)
	for _, s := range strategies {
		for _, soft := range []bool{false, true} {
			cfg := mining.Config{Strategy: s, Margin: 0.3, SoftMargin: soft,
				Reduction: mining.SumReduction}
			ref := refMine(cfg, d32, labels)
			all := ref.triplets
			if s == mining.BatchAll {
				all = allTriplets(labels)
			}
			d := make([]float64, n*n)
			for k, v := range d32 {
				d[k] = float64(v)
			}
			for k := range d {
				const h = 1e-7
				x := d[k]
				d[k] = x + h
				up := refLossAt(cfg, all, d, n, 1)
				d[k] = x - h
				down := refLossAt(cfg, all, d, n, 1)
				d[k] = x
				if numeric := (up - down) / (2 * h); math.Abs(numeric-ref.grad[k]) > 1e-5 {
					t.Fatalf("%v soft=%v: dL/dD[%d] = %v, numerically %v", s, soft, k,
						ref.grad[k], numeric)
				}
			}
		}
	}
}

// allTriplets lists every valid triplet of a batch.
func allTriplets(labels []int32) []mining.Triplet {
	var all []mining.Triplet
	for a := range labels {
		for p := range labels {
			for n := range labels {
				if p != a && labels[p] == labels[a] && labels[n] != labels[a] {
					all = append(all, mining.Triplet{Anchor: int32(a), Positive: int32(p),
						Negative: int32(n)})
				}
			}
		}
	}
	return all
}

func TestWorkersGiveIdenticalResults(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	d, labels := randomBatch(t, rng, 40, 4, 16)
	for _, s := range strategies {
		var results []mining.Result
		for _, workers := range []int{1, 2, 5} {
			var m mining.Miner
			cfg := mining.Config{Strategy: s, Margin: 0.2, Workers: workers}
			r, err := m.Mine(cfg, d, labels)
			if err != nil {
				t.Fatal(err)
			}
			results = append(results, *r)
		}
		for _, r := range results[1:] {
			if r.Loss != results[0].Loss || r.Stats != results[0].Stats ||
				!slices.Equal(r.Weights, results[0].Weights) ||
				!slices.Equal(r.Entries, results[0].Entries) ||
				!slices.Equal(r.Triplets, results[0].Triplets) {
				t.Errorf("%v: results differ between worker counts", s)
			}
		}
	}
}

func TestNoAllocationInSteadyState(t *testing.T) {
	if kerneltest.Race {
		t.Skip("the race detector's instrumentation allocates; counted in normal builds")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	d, labels := randomBatch(t, rng, 30, 4, 16)
	for _, s := range strategies {
		var m mining.Miner
		cfg := mining.Config{Strategy: s, Margin: 0.2, Workers: 2}
		if _, err := m.Mine(cfg, d, labels); err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(10, func() { _, _ = m.Mine(cfg, d, labels) })
		if allocs != 0 {
			t.Errorf("%v: %v allocations per call", s, allocs)
		}
	}
}

func TestBadInput(t *testing.T) {
	d := make([]float32, 9)
	labels := []int32{0, 0, 1}
	var m mining.Miner
	cases := []struct {
		cfg    mining.Config
		d      []float32
		labels []int32
		want   error
	}{
		{mining.Config{Strategy: 9}, d, labels, mining.ErrStrategy},
		{mining.Config{Reduction: -1}, d, labels, mining.ErrReduction},
		{mining.Config{Margin: -1}, d, labels, mining.ErrMargin},
		{mining.Config{Margin: float32(math.NaN())}, d, labels, mining.ErrMargin},
		{mining.Config{Margin: float32(math.Inf(1))}, d, labels, mining.ErrMargin},
		{mining.Config{}, d[:8], labels, mining.ErrShape},
	}
	for _, c := range cases {
		if _, err := m.Mine(c.cfg, c.d, c.labels); !errors.Is(err, c.want) {
			t.Errorf("%+v: error %v, want %v", c.cfg, err, c.want)
		}
	}
	nan := []float32{0, float32(math.NaN()), 1, 1, 0, 1, 1, 1, 0}
	if _, err := m.Mine(mining.Config{Strategy: mining.BatchAll, Margin: 1}, nan, labels); err == nil {
		t.Error("NaN distances gave no error")
	}
}

func TestParseStrategy(t *testing.T) {
	for _, s := range strategies {
		if got, err := mining.ParseStrategy(s.String()); err != nil || got != s {
			t.Errorf("ParseStrategy(%q) = %v, %v", s.String(), got, err)
		}
	}
	if _, err := mining.ParseStrategy("random"); !errors.Is(err, mining.ErrStrategy) {
		t.Errorf("ParseStrategy(random): %v", err)
	}
}
