package mining_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tripletmine/triplet/asm"
	"github.com/tripletmine/triplet/dist"
	"github.com/tripletmine/triplet/internal/fullmatrix"
	"github.com/tripletmine/triplet/internal/kerneltest"
	"github.com/tripletmine/triplet/mining"
)

// newRefsCase draws a batch of p classes of k rows and m references whose
// labels come from the batch's classes and as many others; with ids, some
// references are batch samples (copies of their rows, or nearly), a few of
// them under another label. Every seventh reference repeats an earlier one,
// so that distances tie.
func newRefsCase(t testing.TB, rng *rand.Rand, metric dist.Metric, p, k, m, dim int,
	ids bool) *fullmatrix.Case {

	n := p * k
	batch := mining.Batch{Rows: make([]float32, n*dim), Dim: dim, Labels: make([]int32, n)}
	refs := mining.Refs{Rows: make([]float32, m*dim), Labels: make([]int32, m)}
	for i := range batch.Rows {
		batch.Rows[i] = float32(rng.NormFloat64())
	}
	for i := range refs.Rows {
		refs.Rows[i] = float32(rng.NormFloat64())
	}
	for i := range n {
		batch.Labels[i] = int32(i / k)
	}
	for j := range m {
		refs.Labels[j] = int32(rng.IntN(2 * p))
	}
	if ids {
		batch.IDs, refs.IDs = make([]int64, n), make([]int64, m)
		for i := range n {
			batch.IDs[i] = int64(1000 + i)
		}
		for j := range m {
			refs.IDs[j] = int64(100000 + j)
			if rng.IntN(8) != 0 {
				continue
			}
			i := rng.IntN(n)
			refs.IDs[j] = batch.IDs[i]
			if rng.IntN(4) != 0 {
				refs.Labels[j] = batch.Labels[i]
			}
			copy(refs.Rows[j*dim:(j+1)*dim], batch.Rows[i*dim:(i+1)*dim])
			refs.Rows[j*dim] += float32(rng.IntN(2)) * 0.01
		}
	}
	for j := 1; j < m; j += 7 {
		src := rng.IntN(j)
		copy(refs.Rows[j*dim:(j+1)*dim], refs.Rows[src*dim:(src+1)*dim])
	}
	c, err := fullmatrix.New(metric, batch, refs)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestMineRefsAgainstFullMatrix mines batches against references by
// streaming and compares with the definitions applied to the full matrix:
// the same selections and counts, the same loss, and the gradient of the
// full-matrix path, at every level. The shapes cover one and several
// blocks of anchors and of references and several slices of them; past
// 16 slices of 512 references, a slice holds more than one block. The
// full-matrix batch-all enumerates triplets in time that grows as M², so
// that largest shape runs the Euclidean metric only.
func TestMineRefsAgainstFullMatrix(t *testing.T) {
	shapes := []struct{ p, k, m, dim int }{
		{2, 2, 0, 3}, {3, 2, 1, 1}, {4, 3, 37, 5}, {5, 4, 300, 16},
		{3, 4, 4100, 9}, {40, 4, 700, 8}, {1, 2, 8300, 3},
	}
	if testing.Short() {
		shapes = shapes[:4]
	}
	kerneltest.Run(t, func(t *testing.T, level asm.Level) {
		rng := rand.New(rand.NewPCG(1, uint64(level)))
		var miner mining.Miner
		for _, sh := range shapes {
			for _, metric := range []dist.Metric{dist.SquaredEuclidean, dist.Euclidean, dist.Cosine} {
				if sh.m > 8192 && metric != dist.Euclidean {
					continue
				}
				for _, s := range []mining.Strategy{mining.BatchAll, mining.BatchHard, mining.SemiHard} {
					for variant := range 4 {
						ids, withBatch := variant&1 != 0, variant&2 != 0
						c := newRefsCase(t, rng, metric, sh.p, sh.k, sh.m, sh.dim, ids)
						cfg := mining.Config{Strategy: s, Margin: 0.5, WithBatch: withBatch,
							SoftMargin: rng.IntN(4) == 0 && sh.m < 1000,
							Reduction:  mining.Reduction(rng.IntN(3))}
						what := fmt.Sprintf("%v/%v/n=%d/m=%d/d=%d/ids=%v/batch=%v/soft=%v/%v",
							metric, s, sh.p*sh.k, sh.m, sh.dim, ids, withBatch, cfg.SoftMargin,
							cfg.Reduction)
						checkRefs(t, what, &miner, cfg, c)
					}
				}
			}
		}
	})
}

// checkRefs runs MineRefs on c and compares it with the full matrix.
func checkRefs(t *testing.T, what string, miner *mining.Miner, cfg mining.Config,
	c *fullmatrix.Case) {

	t.Helper()
	want := c.Mine(cfg)
	grad := make([]float32, len(c.Batch.Rows))
	got, err := miner.MineRefs(cfg, c.Metric, c.Batch, c.Refs, grad)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if !slices.Equal(got.Triplets, want.Triplets) {
		t.Fatalf("%s: triplets\n got %v\nwant %v", what, got.Triplets, want.Triplets)
	}
	gs, ws := got.Stats, want.Stats
	if gs.Anchors != ws.Anchors || gs.Pairs != ws.Pairs || gs.Triplets != ws.Triplets ||
		gs.Selected != ws.Selected || gs.Active != ws.Active {
		t.Fatalf("%s: stats\n got %+v\nwant %+v", what, gs, ws)
	}
	for _, v := range [][2]float64{{got.Loss, want.Loss}, {gs.MeanPositive, ws.MeanPositive},
		{gs.MeanNegative, ws.MeanNegative}} {
		if math.Abs(v[0]-v[1]) > 1e-6*(math.Abs(v[1])+1e-3) {
			t.Fatalf("%s: loss or mean distance %v, want %v", what, v[0], v[1])
		}
	}

	wantGrad, err := c.Grad(want.DLdD)
	if err != nil {
		t.Fatal(err)
	}
	scale := 0.0
	for _, v := range wantGrad {
		scale = max(scale, math.Abs(float64(v)))
	}
	for i, v := range grad {
		if math.Abs(float64(v)-float64(wantGrad[i])) > 1e-4*scale+1e-6 {
			t.Fatalf("%s: gradient %d is %v, want %v (largest %v)", what, i, v, wantGrad[i], scale)
		}
	}
}
