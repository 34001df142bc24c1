package mining_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/tripletmine/triplet/asm"
	"github.com/tripletmine/triplet/dist"
	"github.com/tripletmine/triplet/internal/fullmatrix"
	"github.com/tripletmine/triplet/internal/kerneltest"
	"github.com/tripletmine/triplet/mining"
)

var metrics = []dist.Metric{dist.SquaredEuclidean, dist.Euclidean, dist.Cosine}

// minedRefs is a result of MineRefs or MineBank copied out of the Miner,
// with the gradient it added.
type minedRefs struct {
	loss     float64
	stats    mining.Stats
	triplets []mining.Triplet
	grad     []float32
}

// keep copies r, which its Miner overwrites on its next call.
func keep(r *mining.Result, grad []float32) minedRefs {
	return minedRefs{loss: r.Loss, stats: r.Stats, triplets: slices.Clone(r.Triplets),
		grad: slices.Clone(grad)}
}

// bitDiff describes how two results differ, bit for bit, or returns "".
func bitDiff(got, want minedRefs) string {
	switch {
	case math.Float64bits(got.loss) != math.Float64bits(want.loss):
		return fmt.Sprintf("loss %v, want %v", got.loss, want.loss)
	case got.stats != want.stats:
		return fmt.Sprintf("stats\n got %+v\nwant %+v", got.stats, want.stats)
	case !slices.Equal(got.triplets, want.triplets):
		return fmt.Sprintf("triplets\n got %v\nwant %v", got.triplets, want.triplets)
	}
	for k := range want.grad {
		if math.Float32bits(got.grad[k]) != math.Float32bits(want.grad[k]) {
			return fmt.Sprintf("gradient %d is %v, want %v", k, got.grad[k], want.grad[k])
		}
	}
	return ""
}

// cloneRefs returns a copy of refs that shares no storage with it, as a
// caller would build it (so without what a Bank records).
func cloneRefs(r mining.Refs) mining.Refs {
	return mining.Refs{Rows: slices.Clone(r.Rows), Labels: slices.Clone(r.Labels),
		IDs: slices.Clone(r.IDs)}
}

// sentinelGrad returns a gradient buffer of n values that a call must add
// to, not overwrite: each holds a distinct, recognisable value.
func sentinelGrad(n int) []float32 {
	g := make([]float32, n)
	for k := range g {
		g[k] = 7 + float32(k)/4
	}
	return g
}

// sameBits reports whether two gradients hold the same bits.
func sameBits(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool {
		return math.Float32bits(x) == math.Float32bits(y)
	})
}

// TestMineRefsWorkersGiveIdenticalResults mines the same batch against
// enough references for several slices of them with 1, 2, 3 and 8
// workers: the loss, selections, statistics and gradient must not differ
// in a single bit.
func TestMineRefsWorkersGiveIdenticalResults(t *testing.T) {
	kerneltest.SkipUnderEmulation(t, "the split of the work among workers")
	rng := rand.New(rand.NewPCG(21, 22))
	for _, metric := range metrics {
		c := newRefsCase(t, rng, metric, 3, 4, 5000, 8, true)
		for _, s := range strategies {
			for variant := range 4 {
				withBatch, soft := variant&1 != 0, variant&2 != 0
				if soft && s == mining.BatchAll {
					continue // a softplus per triplet: n·K·m of them, too slow here
				}
				cfg := mining.Config{Strategy: s, Margin: 0.4, WithBatch: withBatch,
					SoftMargin: soft}
				what := fmt.Sprintf("%v/%v/batch=%v/soft=%v", metric, s, withBatch, soft)

				var first minedRefs
				for i, workers := range []int{1, 2, 3, 8} {
					cfg.Workers = workers
					var miner mining.Miner
					grad := sentinelGrad(len(c.Batch.Rows))
					r, err := miner.MineRefs(cfg, metric, c.Batch, c.Refs, grad)
					if err != nil {
						t.Fatalf("%s/workers=%d: %v", what, workers, err)
					}
					got := keep(r, grad)
					if i == 0 {
						first = got
						if got.stats.Selected == 0 {
							t.Fatalf("%s: nothing selected; the case tests nothing", what)
						}
						continue
					}
					if d := bitDiff(got, first); d != "" {
						t.Errorf("%s: workers=%d differs from workers=1: %s", what, workers, d)
					}
				}
			}
		}
	}
}

// TestMineRefsEqualsMine mines a batch against itself as references, each
// row carrying the same id on both sides so that no anchor is its own
// candidate: that is Mine on the batch's pairwise distances, with every
// candidate numbered n higher.
func TestMineRefsEqualsMine(t *testing.T) {
	shapes := []struct{ p, k, dim int }{{6, 4, 5}, {2, 3, 1}, {75, 4, 8}}
	if testing.Short() {
		shapes = shapes[:2]
	}
	reductions := []mining.Reduction{mining.DefaultReduction, mining.MeanReduction,
		mining.SumReduction}
	kerneltest.Run(t, func(t *testing.T, level asm.Level) {
		rng := rand.New(rand.NewPCG(23, uint64(level)))
		var miner mining.Miner
		for _, sh := range shapes {
			for _, metric := range metrics {
				c := newRefsCase(t, rng, metric, sh.p, sh.k, 0, sh.dim, false)
				n := len(c.Batch.Labels)
				batch := c.Batch
				batch.IDs = make([]int64, n)
				for i := range batch.IDs {
					batch.IDs[i] = int64(i)
				}
				refs := mining.Refs{Rows: batch.Rows, Labels: batch.Labels, IDs: batch.IDs}
				calc := dist.Calculator{Metric: metric}
				d, err := calc.Pairwise(nil, batch.Rows, batch.Dim)
				if err != nil {
					t.Fatal(err)
				}

				for _, s := range strategies {
					for _, red := range reductions {
						for _, soft := range []bool{false, true} {
							cfg := mining.Config{Strategy: s, Margin: 0.3, Reduction: red,
								SoftMargin: soft}
							what := fmt.Sprintf("%v/n=%d/d=%d/%v/%v/soft=%v", metric, n,
								sh.dim, s, red, soft)
							want, err := miner.Mine(cfg, d, batch.Labels)
							if err != nil {
								t.Fatal(err)
							}
							wantLoss, wantStats := want.Loss, want.Stats
							wantTriplets := slices.Clone(want.Triplets)
							for k := range wantTriplets {
								wantTriplets[k].Positive += int32(n)
								wantTriplets[k].Negative += int32(n)
							}

							got, err := miner.MineRefs(cfg, metric, batch, refs, nil)
							if err != nil {
								t.Fatalf("%s: %v", what, err)
							}
							if !slices.Equal(got.Triplets, wantTriplets) {
								t.Fatalf("%s: triplets\n got %v\nwant %v", what, got.Triplets,
									wantTriplets)
							}
							checkSameStats(t, what, got.Stats, wantStats)
							if !closeTo(got.Loss, wantLoss, 1e-9) {
								t.Fatalf("%s: loss %v, Mine's %v", what, got.Loss, wantLoss)
							}
						}
					}
				}
			}
		}
	})
}

// checkSameStats compares the counts of two results exactly and their
// mean distances within float32 rounding of a row sum.
func checkSameStats(t *testing.T, what string, got, want mining.Stats) {
	t.Helper()
	if got.Anchors != want.Anchors || got.Pairs != want.Pairs ||
		got.Triplets != want.Triplets || got.Selected != want.Selected ||
		got.Active != want.Active || got.ActiveFraction != want.ActiveFraction ||
		!closeTo(got.MeanPositive, want.MeanPositive, 1e-6) ||
		!closeTo(got.MeanNegative, want.MeanNegative, 1e-6) {
		t.Fatalf("%s: stats\n got %+v\nwant %+v", what, got, want)
	}
}

// closeTo reports whether got is within rel of want, relative to want's
// size (or to 1e-30 near 0).
func closeTo(got, want, rel float64) bool {
	return math.Abs(got-want) <= rel*max(math.Abs(want), 1e-30)
}

// TestMineRefsNoAllocationInSteadyState mines against references with the
// shapes of an earlier call, for every strategy and metric, with the
// batch and ids: no call may allocate. The case has several slices of
// references, and semi-hard pairs without a farther negative, so that
// every pass runs.
func TestMineRefsNoAllocationInSteadyState(t *testing.T) {
	if kerneltest.Race {
		t.Skip("the race detector's instrumentation allocates; counted in normal builds")
	}
	kerneltest.SkipUnderEmulation(t, "counting allocations")
	rng := rand.New(rand.NewPCG(25, 26))
	for _, metric := range metrics {
		c := newRefsCase(t, rng, metric, 4, 4, 700, 8, true)
		n, cols := len(c.Batch.Labels), len(c.Batch.Labels)+len(c.Refs.Labels)
		grad := make([]float32, len(c.Batch.Rows))
		for _, s := range strategies {
			for _, soft := range []bool{false, true} {
				cfg := mining.Config{Strategy: s, Margin: 0.2, WithBatch: true, SoftMargin: soft,
					Workers: 2}
				what := fmt.Sprintf("%v/%v/soft=%v", metric, s, soft)
				var miner mining.Miner
				r, err := miner.MineRefs(cfg, metric, c.Batch, c.Refs, grad)
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				if s == mining.SemiHard && !slices.ContainsFunc(r.Triplets,
					func(tr mining.Triplet) bool {
						row := c.D[int(tr.Anchor)*cols:]
						return row[tr.Negative] <= row[tr.Positive]
					}) {
					t.Fatalf("%s: no pair fell back to the farthest negative (n=%d)", what, n)
				}
				// A garbage collection empties the runtime's caches of
				// the records that parked goroutines use, and the pool's
				// helpers park between calls: collect first, then warm
				// them up again, so that only the miner's allocations count.
				runtime.GC()
				for range 3 {
					_, _ = miner.MineRefs(cfg, metric, c.Batch, c.Refs, grad)
				}
				allocs := testing.AllocsPerRun(20, func() {
					_, _ = miner.MineRefs(cfg, metric, c.Batch, c.Refs, grad)
				})
				if allocs != 0 {
					t.Errorf("%s: %v allocations per call", what, allocs)
				}
			}
		}
	}
}

// TestMineRefsBadInput gives MineRefs one bad input at a time: each must
// be an error that errors.Is recognises, and leave grad alone.
func TestMineRefsBadInput(t *testing.T) {
	const dim = 3
	good := func() (mining.Batch, mining.Refs) {
		batch := mining.Batch{Rows: []float32{1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0}, Dim: dim,
			Labels: []int32{0, 0, 1, 1}, IDs: []int64{10, 11, 12, 13}}
		refs := mining.Refs{Rows: []float32{0, 1, 1, 1, 0, 1, 2, 0, 0},
			Labels: []int32{0, 1, 2}, IDs: []int64{10, 20, 21}}
		return batch, refs
	}
	base := mining.Config{Strategy: mining.SemiHard, Margin: 0.5, WithBatch: true}
	nan, inf := float32(math.NaN()), float32(math.Inf(1))

	cases := []struct {
		what   string
		change func(cfg *mining.Config, m *dist.Metric, b *mining.Batch, r *mining.Refs,
			grad *[]float32)
		want error
	}{
		{"dim 0", func(_ *mining.Config, _ *dist.Metric, b *mining.Batch, _ *mining.Refs,
			_ *[]float32) {
			b.Dim = 0
		}, mining.ErrShape},
		{"batch rows not a multiple of dim", func(_ *mining.Config, _ *dist.Metric,
			b *mining.Batch, _ *mining.Refs, _ *[]float32) {
			b.Rows = b.Rows[:len(b.Rows)-1]
		}, dist.ErrShape},
		{"reference rows not a multiple of dim", func(_ *mining.Config, _ *dist.Metric,
			_ *mining.Batch, r *mining.Refs, _ *[]float32) {
			r.Rows = r.Rows[:len(r.Rows)-2]
		}, dist.ErrShape},
		{"batch labels", func(_ *mining.Config, _ *dist.Metric, b *mining.Batch, _ *mining.Refs,
			_ *[]float32) {
			b.Labels = b.Labels[:3]
		}, mining.ErrShape},
		{"batch ids", func(_ *mining.Config, _ *dist.Metric, b *mining.Batch, _ *mining.Refs,
			_ *[]float32) {
			b.IDs = append(b.IDs, 14)
		}, mining.ErrShape},
		{"reference labels", func(_ *mining.Config, _ *dist.Metric, _ *mining.Batch,
			r *mining.Refs, _ *[]float32) {
			r.Labels = r.Labels[:2]
		}, mining.ErrShape},
		{"reference ids", func(_ *mining.Config, _ *dist.Metric, _ *mining.Batch, r *mining.Refs,
			_ *[]float32) {
			r.IDs = r.IDs[:1]
		}, mining.ErrShape},
		{"grad length", func(_ *mining.Config, _ *dist.Metric, _ *mining.Batch, _ *mining.Refs,
			g *[]float32) {
			*g = (*g)[:len(*g)-1]
		}, mining.ErrShape},
		{"NaN in a batch row", func(_ *mining.Config, _ *dist.Metric, b *mining.Batch,
			_ *mining.Refs, _ *[]float32) {
			b.Rows[7] = nan
		}, dist.ErrNotFinite},
		{"Inf in a reference row", func(_ *mining.Config, _ *dist.Metric, _ *mining.Batch,
			r *mining.Refs, _ *[]float32) {
			r.Rows[5] = -inf
		}, dist.ErrNotFinite},
		{"reference of huge norm", func(_ *mining.Config, _ *dist.Metric, _ *mining.Batch,
			r *mining.Refs, _ *[]float32) {
			r.Rows[4] = 1e30
		}, dist.ErrTooLarge},
		{"reference of norm 0 under cosine", func(_ *mining.Config, m *dist.Metric,
			_ *mining.Batch, r *mining.Refs, _ *[]float32) {
			*m = dist.Cosine
			clear(r.Rows[3:6])
		}, dist.ErrZeroNorm},
		{"unknown metric", func(_ *mining.Config, m *dist.Metric, _ *mining.Batch,
			_ *mining.Refs, _ *[]float32) {
			*m = dist.Cosine + 1
		}, dist.ErrMetric},
		{"references not of unit norm", func(cfg *mining.Config, _ *dist.Metric,
			_ *mining.Batch, _ *mining.Refs, _ *[]float32) {
			cfg.UnitRefs = true
		}, mining.ErrNotUnit},
		{"CollectAll", func(cfg *mining.Config, _ *dist.Metric, _ *mining.Batch, _ *mining.Refs,
			_ *[]float32) {
			cfg.Strategy, cfg.CollectAll = mining.BatchAll, true
		}, mining.ErrUnsupported},
		{"unknown strategy", func(cfg *mining.Config, _ *dist.Metric, _ *mining.Batch,
			_ *mining.Refs, _ *[]float32) {
			cfg.Strategy = 7
		}, mining.ErrStrategy},
		{"unknown reduction", func(cfg *mining.Config, _ *dist.Metric, _ *mining.Batch,
			_ *mining.Refs, _ *[]float32) {
			cfg.Reduction = 3
		}, mining.ErrReduction},
		{"negative margin", func(cfg *mining.Config, _ *dist.Metric, _ *mining.Batch,
			_ *mining.Refs, _ *[]float32) {
			cfg.Margin = -0.5
		}, mining.ErrMargin},
		{"NaN margin", func(cfg *mining.Config, _ *dist.Metric, _ *mining.Batch,
			_ *mining.Refs, _ *[]float32) {
			cfg.Margin = nan
		}, mining.ErrMargin},
	}

	var miner mining.Miner
	for _, c := range cases {
		for _, s := range strategies {
			cfg, metric := base, dist.Euclidean
			cfg.Strategy = s
			batch, refs := good()
			grad := sentinelGrad(len(batch.Rows))
			c.change(&cfg, &metric, &batch, &refs, &grad)
			before := slices.Clone(grad)

			r, err := miner.MineRefs(cfg, metric, batch, refs, grad)
			if !errors.Is(err, c.want) {
				t.Errorf("%s (%v): error %v, want %v", c.what, s, err, c.want)
			}
			if r != nil {
				t.Errorf("%s (%v): a result with the error", c.what, s)
			}
			if !sameBits(grad, before) {
				t.Errorf("%s (%v): grad changed to %v", c.what, s, grad)
			}
		}
	}

	// The good input is good, and the miner is not left broken by the
	// errors before.
	batch, refs := good()
	if _, err := miner.MineRefs(base, dist.Euclidean, batch, refs, nil); err != nil {
		t.Errorf("good input: %v", err)
	}
}

// TestMineRefsEdgeCases covers nothing to mine against, a gradient that
// is already there (MineRefs adds to it) or not wanted, a batch of one
// row, anchors whose every reference is their own sample, and semi-hard
// pairs that have no negative farther than their positive.
//
// Each metric has a Miner of its own, so that these cases do not depend on
// what an earlier metric left in one; TestMineRefsLeavesInputAlone covers
// that.
func TestMineRefsEdgeCases(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))

	t.Run("no candidates", func(t *testing.T) {
		batch := mining.Batch{Rows: []float32{1, 2, 3, 4, 5, 6}, Dim: 2, Labels: []int32{0, 1, 0},
			IDs: []int64{1, 2, 3}}
		ownRefs := mining.Refs{Rows: []float32{1, 2, 1, 2.5, 3, 4}, Labels: []int32{0, 5, 1},
			IDs: []int64{1, 1, 2}}
		oneRow := mining.Batch{Rows: batch.Rows[:2], Dim: 2, Labels: batch.Labels[:1]}
		inputs := []struct {
			what      string
			batch     mining.Batch
			refs      mining.Refs
			withBatch bool
		}{
			{"no references", batch, mining.Refs{}, false},
			{"one row, no references", oneRow, mining.Refs{}, false},
			{"one row and the batch", oneRow, mining.Refs{}, true},
			{"empty batch", mining.Batch{Dim: 2}, ownRefs, true},
			{"only own references", mining.Batch{Rows: batch.Rows[:4], Dim: 2,
				Labels: batch.Labels[:2], IDs: batch.IDs[:2]}, ownRefs, false},
		}
		for _, metric := range metrics {
			var miner mining.Miner
			for _, in := range inputs {
				for _, s := range strategies {
					cfg := mining.Config{Strategy: s, Margin: 1, SoftMargin: s == mining.BatchAll,
						WithBatch: in.withBatch}
					what := fmt.Sprintf("%s/%v/%v", in.what, s, metric)
					grad := sentinelGrad(len(in.batch.Rows))
					before := slices.Clone(grad)
					r, err := miner.MineRefs(cfg, metric, in.batch, in.refs, grad)
					if err != nil {
						t.Fatalf("%s: %v", what, err)
					}
					if r.Loss != 0 || len(r.Triplets) != 0 || r.Stats != (mining.Stats{}) {
						t.Errorf("%s: loss %v, triplets %v, stats %+v; want nothing", what,
							r.Loss, r.Triplets, r.Stats)
					}
					if !sameBits(grad, before) {
						t.Errorf("%s: grad changed from %v to %v", what, before, grad)
					}
				}
			}
		}
	})

	t.Run("adds to grad", func(t *testing.T) {
		for _, metric := range metrics {
			var miner mining.Miner
			c := newRefsCase(t, rng, metric, 3, 2, 50, 4, true)
			for _, s := range strategies {
				cfg := mining.Config{Strategy: s, Margin: 0.5, WithBatch: true}
				what := fmt.Sprintf("%v/%v", metric, s)
				own := make([]float32, len(c.Batch.Rows))
				r, err := miner.MineRefs(cfg, metric, c.Batch, c.Refs, own)
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				want := keep(r, own)
				if !slices.ContainsFunc(own, func(v float32) bool { return v != 0 }) {
					t.Fatalf("%s: a zero gradient tests nothing", what)
				}

				grad := sentinelGrad(len(own))
				for k, v := range own {
					want.grad[k] = grad[k] + v
				}
				r, err = miner.MineRefs(cfg, metric, c.Batch, c.Refs, grad)
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				if d := bitDiff(keep(r, grad), want); d != "" {
					t.Errorf("%s: onto a gradient already there: %s", what, d)
				}

				want.grad = nil
				r, err = miner.MineRefs(cfg, metric, c.Batch, c.Refs, nil)
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				if d := bitDiff(keep(r, nil), want); d != "" {
					t.Errorf("%s: without a gradient: %s", what, d)
				}
			}
		}
	})

	t.Run("one batch row", func(t *testing.T) {
		for _, metric := range metrics {
			var miner mining.Miner
			for _, s := range strategies {
				for _, withBatch := range []bool{false, true} {
					c := newRefsCase(t, rng, metric, 1, 1, 40, 4, true)
					cfg := mining.Config{Strategy: s, Margin: 0.5, WithBatch: withBatch}
					checkRefs(t, fmt.Sprintf("%v/%v/batch=%v", metric, s, withBatch), &miner,
						cfg, c)
				}
			}
		}
	})

	t.Run("anchor with only its own references", func(t *testing.T) {
		// Anchors 0 and 2 carry the id of every reference, under their
		// labels and others: they have only their batch candidates, or none
		// without WithBatch. Anchors 1 and 3 mine all the references.
		for _, metric := range metrics {
			var miner mining.Miner
			c := newRefsCase(t, rng, metric, 2, 2, 30, 3, true)
			for j := range c.Refs.IDs {
				c.Refs.IDs[j] = c.Batch.IDs[0]
			}
			c.Batch.IDs[2] = c.Batch.IDs[0]
			for _, s := range strategies {
				for _, withBatch := range []bool{false, true} {
					cfg := mining.Config{Strategy: s, Margin: 0.5, WithBatch: withBatch}
					checkRefs(t, fmt.Sprintf("%v/%v/batch=%v", metric, s, withBatch), &miner,
						cfg, c)
				}
			}
		}
	})

	t.Run("semi-hard falls back to the farthest negative", func(t *testing.T) {
		for _, metric := range metrics {
			var miner mining.Miner
			for _, withBatch := range []bool{false, true} {
				c := fallbackCase(t, metric)
				for _, red := range []mining.Reduction{mining.DefaultReduction,
					mining.SumReduction} {
					for _, soft := range []bool{false, true} {
						cfg := mining.Config{Strategy: mining.SemiHard, Margin: 0.3,
							WithBatch: withBatch, Reduction: red, SoftMargin: soft, Workers: 3}
						checkRefs(t, fmt.Sprintf("%v/batch=%v/%v/soft=%v", metric, withBatch,
							red, soft), &miner, cfg, c)
					}
				}
				checkFallback(t, metric, c)
			}
		}
	})
}

// fallbackCase builds a batch whose positives, in the batch and among the
// references, lie far from their anchors and whose negatives lie near, so
// that most semi-hard pairs have no farther negative and take the farthest
// one. The references span three slices, and the farthest negatives of
// an anchor repeat in the first and the last, so the lowest must win.
func fallbackCase(t *testing.T, metric dist.Metric) *fullmatrix.Case {
	const dim, m = 2, 600
	// Anchors of labels 0 and 1 sit at directions 0 and π/2 at radius 1.
	batch := mining.Batch{Dim: dim,
		Rows:   []float32{1, 0, 1.01, 0.02, 0, 1, 0.03, 1.02},
		Labels: []int32{0, 0, 1, 1}, IDs: []int64{1, 2, 3, 4}}
	refs := mining.Refs{Rows: make([]float32, m*dim), Labels: make([]int32, m),
		IDs: make([]int64, m)}
	for j := range m {
		refs.IDs[j] = int64(100 + j)
		label := int32(2 + j%3)
		// Negatives: near both anchors, on the diagonal between them.
		x, y := float32(0.7+0.001*float32(j%50)), float32(0.7+0.001*float32(j%37))
		if j%5 == 0 {
			// Positives: far, in the direction opposite their anchors'.
			label = int32(j / 5 % 2)
			x, y = -5-float32(j%11)/40, float32(j%7)/20-0.15
			if label == 1 {
				x, y = y, x
			}
		}
		refs.Labels[j] = label
		refs.Rows[j*dim], refs.Rows[j*dim+1] = x, y
	}
	// The farthest negative of every anchor, still nearer than the
	// positives: at slot 3 and slot 598 alike.
	for _, j := range []int{3, 598} {
		refs.Labels[j] = 7
		refs.Rows[j*dim], refs.Rows[j*dim+1] = -3.5, -3.5
	}
	c, err := fullmatrix.New(metric, batch, refs)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkFallback checks that a fallback case does what it says: pairs
// without a farther negative, whose selection is the lowest of the tied
// farthest ones.
func checkFallback(t *testing.T, metric dist.Metric, c *fullmatrix.Case) {
	t.Helper()
	var miner mining.Miner
	cfg := mining.Config{Strategy: mining.SemiHard, Margin: 0.3}
	r, err := miner.MineRefs(cfg, metric, c.Batch, c.Refs, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := len(c.Batch.Labels)
	cols := n + len(c.Refs.Labels)
	fallbacks := 0
	for _, tr := range r.Triplets {
		row := c.D[int(tr.Anchor)*cols:]
		if row[tr.Negative] > row[tr.Positive] {
			continue
		}
		fallbacks++
		if tr.Negative != int32(n+3) {
			t.Errorf("%v: pair %v fell back to negative %d, want the lowest farthest, %d",
				metric, tr, tr.Negative, n+3)
		}
	}
	if fallbacks == 0 {
		t.Errorf("%v: no pair fell back to the farthest negative", metric)
	}
}

// TestMineRefsLeavesInputAlone mines the same batch and references with
// one Miner under one metric after another: no call may write into the
// caller's rows, labels or ids, and each must give, bit for bit, what a
// new Miner gives.
func TestMineRefsLeavesInputAlone(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	c := newRefsCase(t, rng, dist.Euclidean, 3, 3, 300, 4, true)
	batch, refs := c.Batch, c.Refs
	wantBatch, wantRefs := slices.Clone(batch.Rows), cloneRefs(refs)
	order := []dist.Metric{dist.Euclidean, dist.Cosine, dist.SquaredEuclidean, dist.Cosine,
		dist.Cosine, dist.Euclidean}

	var miner mining.Miner
	for step, metric := range order {
		for _, s := range strategies {
			for _, withBatch := range []bool{false, true} {
				cfg := mining.Config{Strategy: s, Margin: 0.3, WithBatch: withBatch}
				what := fmt.Sprintf("step %d: %v/%v/batch=%v", step, metric, s, withBatch)

				var fresh mining.Miner
				grad := sentinelGrad(len(batch.Rows))
				r, err := fresh.MineRefs(cfg, metric, cloneBatch(batch), cloneRefs(refs), grad)
				if err != nil {
					t.Fatalf("%s, new miner: %v", what, err)
				}
				want := keep(r, grad)

				grad = sentinelGrad(len(batch.Rows))
				r, err = miner.MineRefs(cfg, metric, batch, refs, grad)
				if !sameBits(batch.Rows, wantBatch) {
					t.Fatalf("%s: the batch rows changed", what)
				}
				if k := firstChange(refs.Rows, wantRefs.Rows); k >= 0 {
					t.Fatalf("%s: reference row %d changed from %v to %v (error %v)", what,
						k/4, wantRefs.Rows[k/4*4:k/4*4+4], refs.Rows[k/4*4:k/4*4+4], err)
				}
				if !slices.Equal(refs.Labels, wantRefs.Labels) ||
					!slices.Equal(refs.IDs, wantRefs.IDs) {
					t.Fatalf("%s: the reference labels or ids changed", what)
				}
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				if d := bitDiff(keep(r, grad), want); d != "" {
					t.Fatalf("%s: differs from a new miner's: %s", what, d)
				}
			}
		}
	}
}

// cloneBatch returns a copy of batch that shares no storage with it.
func cloneBatch(b mining.Batch) mining.Batch {
	return mining.Batch{Rows: slices.Clone(b.Rows), Dim: b.Dim, Labels: slices.Clone(b.Labels),
		IDs: slices.Clone(b.IDs)}
}

// firstChange returns the first index where two slices differ in their
// bits, or -1.
func firstChange(got, want []float32) int {
	for k := range want {
		if math.Float32bits(got[k]) != math.Float32bits(want[k]) {
			return k
		}
	}
	return -1
}
