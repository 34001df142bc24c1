package mining_test

import (
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

// refsCase is a batch and its references, with the full n×(n+m) matrix
// of distances from the anchors to every candidate index.
type refsCase struct {
	batch mining.Batch
	refs  mining.Refs
	n, m  int
	full  []float32 // n×(n+m): batch columns, then references
}

// candidate reports whether candidate c is one of anchor a's.
func (rc *refsCase) candidate(cfg mining.Config, a, c int) bool {
	if c < rc.n {
		return cfg.WithBatch && c != a
	}
	j := c - rc.n
	return rc.batch.IDs == nil || rc.refs.IDs == nil || rc.batch.IDs[a] != rc.refs.IDs[j]
}

// label returns candidate c's label.
func (rc *refsCase) label(c int) int32 {
	if c < rc.n {
		return rc.batch.Labels[c]
	}
	return rc.refs.Labels[c-rc.n]
}

// refMineRefs mines the full matrix with straight loops from the
// definitions, in float64, returning dL/dD as an n×(n+m) matrix.
func refMineRefs(cfg mining.Config, rc *refsCase) refResult {
	n, cols := rc.n, rc.n+rc.m
	at := func(a, c int) float64 { return float64(rc.full[a*cols+c]) }
	margin := float64(cfg.Margin)
	r := refResult{grad: make([]float64, n*cols)}
	type chosen struct {
		a, p, n     int
		loss, slope float64
	}
	var all []chosen
	var total, sumPositive, sumNegative float64
	var selected int64
	slopes := make([]float64, n*cols)
	pick := func(a, p, ng int, loss, slope float64) {
		total += loss
		if loss > 0 {
			r.stats.Active++
		}
		sumPositive += at(a, p)
		sumNegative += at(a, ng)
		selected++
		slopes[a*cols+p] += slope
		slopes[a*cols+ng] -= slope
		if cfg.Strategy != mining.BatchAll {
			all = append(all, chosen{a, p, ng, loss, slope})
		}
	}
	for a := range n {
		var pos, neg []int
		for c := range cols {
			switch {
			case !rc.candidate(cfg, a, c):
			case rc.label(c) == rc.batch.Labels[a]:
				pos = append(pos, c)
			default:
				neg = append(neg, c)
			}
		}
		if len(pos) == 0 || len(neg) == 0 {
			continue
		}
		r.stats.Anchors++
		r.stats.Pairs += len(pos)
		r.stats.Triplets += int64(len(pos) * len(neg))
		choose := func(p, ng int) {
			loss, slope := refHinge(cfg.SoftMargin, at(a, p)-at(a, ng)+margin)
			pick(a, p, ng, loss, slope)
		}
		switch cfg.Strategy {
		case mining.BatchAll:
			// The library compares each negative with the threshold
			// d(a,p) + margin rounded to float32; so does the reference.
			for _, p := range pos {
				t := float64(float32(at(a, p)) + cfg.Margin)
				for _, ng := range neg {
					loss, slope := refHinge(cfg.SoftMargin, t-at(a, ng))
					pick(a, p, ng, loss, slope)
				}
			}
		case mining.BatchHard:
			p, ng := pos[0], neg[0]
			for _, c := range pos {
				if at(a, c) > at(a, p) {
					p = c
				}
			}
			for _, c := range neg {
				if at(a, c) < at(a, ng) {
					ng = c
				}
			}
			choose(p, ng)
		case mining.SemiHard:
			for _, p := range pos {
				ng, far := -1, neg[0]
				for _, c := range neg {
					if at(a, c) > at(a, p) && (ng < 0 || at(a, c) < at(a, ng)) {
						ng = c
					}
					if at(a, c) > at(a, far) {
						far = c
					}
				}
				if ng < 0 {
					ng = far
				}
				choose(p, ng)
			}
		}
	}

	for _, c := range all {
		r.triplets = append(r.triplets, mining.Triplet{Anchor: int32(c.a),
			Positive: int32(c.p), Negative: int32(c.n)})
	}
	r.stats.Selected = selected
	if selected > 0 {
		r.stats.ActiveFraction = float64(r.stats.Active) / float64(selected)
		r.stats.MeanPositive = sumPositive / float64(selected)
		r.stats.MeanNegative = sumNegative / float64(selected)
	}
	divisor := float64(selected)
	switch {
	case cfg.Reduction == mining.SumReduction:
		divisor = 1
	case cfg.Reduction == mining.DefaultReduction && cfg.Strategy == mining.BatchAll:
		divisor = float64(r.stats.Active)
	}
	if divisor > 0 {
		r.loss = total / divisor
		for k, v := range slopes {
			r.grad[k] = v / divisor
		}
	}
	return r
}

// newRefsCase draws a batch of p classes of k rows and m references whose
// labels come from the batch's classes and others; with ids, some
// references are batch samples, a few of them under another label.
func newRefsCase(t testing.TB, rng *rand.Rand, metric dist.Metric, p, k, m, dim int,
	ids bool) *refsCase {

	n := p * k
	rc := &refsCase{n: n, m: m}
	rc.batch = mining.Batch{Rows: make([]float32, n*dim), Dim: dim, Labels: make([]int32, n)}
	rc.refs = mining.Refs{Rows: make([]float32, m*dim), Labels: make([]int32, m)}
	for i := range rc.batch.Rows {
		rc.batch.Rows[i] = float32(rng.NormFloat64())
	}
	for i := range rc.refs.Rows {
		rc.refs.Rows[i] = float32(rng.NormFloat64())
	}
	for i := range n {
		rc.batch.Labels[i] = int32(i / k)
	}
	for j := range m {
		rc.refs.Labels[j] = int32(rng.IntN(2 * p))
	}
	if ids {
		rc.batch.IDs = make([]int64, n)
		rc.refs.IDs = make([]int64, m)
		for i := range n {
			rc.batch.IDs[i] = int64(1000 + i)
		}
		for j := range m {
			rc.refs.IDs[j] = int64(100000 + j)
			if rng.IntN(8) == 0 {
				// The same sample as a batch row, usually under its label,
				// and a copy of its row or a nearby one.
				i := rng.IntN(n)
				rc.refs.IDs[j] = rc.batch.IDs[i]
				if rng.IntN(4) != 0 {
					rc.refs.Labels[j] = rc.batch.Labels[i]
				}
				copy(rc.refs.Rows[j*dim:(j+1)*dim], rc.batch.Rows[i*dim:(i+1)*dim])
				rc.refs.Rows[j*dim] += float32(rng.IntN(2)) * 0.01
			}
		}
	}
	// Some ties: references that repeat an earlier one.
	for j := 1; j < m; j += 7 {
		src := rng.IntN(j)
		copy(rc.refs.Rows[j*dim:(j+1)*dim], rc.refs.Rows[src*dim:(src+1)*dim])
	}

	calc := dist.Calculator{Metric: metric}
	cross, err := calc.Cross(nil, rc.batch.Rows, rc.refs.Rows, dim)
	if err != nil {
		t.Fatal(err)
	}
	own, err := calc.Pairwise(nil, rc.batch.Rows, dim)
	if err != nil {
		t.Fatal(err)
	}
	cols := n + m
	rc.full = make([]float32, n*cols)
	for a := range n {
		copy(rc.full[a*cols:], own[a*n:(a+1)*n])
		copy(rc.full[a*cols+n:], cross[a*m:(a+1)*m])
	}
	return rc
}

// fullGrad is the gradient with respect to the batch rows from a full
// dL/dD over the candidates, through dist's matrix gradients: the batch
// columns on both sides, the references as constants.
func fullGrad(t testing.TB, metric dist.Metric, rc *refsCase, dLdD []float64) []float32 {
	n, m, dim, cols := rc.n, rc.m, rc.batch.Dim, rc.n+rc.m
	own, cross := make([]float32, n*n), make([]float32, n*m)
	ownD, crossD := make([]float32, n*n), make([]float32, n*m)
	for a := range n {
		for c := range cols {
			g, d := float32(dLdD[a*cols+c]), rc.full[a*cols+c]
			if c < n {
				own[a*n+c], ownD[a*n+c] = g, d
			} else {
				cross[a*m+c-n], crossD[a*m+c-n] = g, d
			}
		}
	}
	grad := make([]float32, n*dim)
	calc := dist.Calculator{Metric: metric}
	if err := calc.PairwiseGrad(grad, rc.batch.Rows, dim, ownD, own); err != nil {
		t.Fatal(err)
	}
	if m > 0 {
		if err := calc.CrossGrad(grad, nil, rc.batch.Rows, rc.refs.Rows, dim, crossD,
			cross); err != nil {
			t.Fatal(err)
		}
	}
	return grad
}

// TestMineRefsAgainstFullMatrix mines batches against references by
// streaming and compares with the definitions applied to the full matrix:
// the same selections and counts, the same loss, and the gradient of the
// full-matrix path, at every level.
func TestMineRefsAgainstFullMatrix(t *testing.T) {
	shapes := []struct{ p, k, m, dim int }{
		{2, 2, 0, 3}, {3, 2, 1, 1}, {4, 3, 37, 5}, {5, 4, 300, 16},
		{3, 4, 4100, 9}, {40, 4, 700, 8},
	}
	if testing.Short() {
		shapes = shapes[:4]
	}
	kerneltest.Run(t, func(t *testing.T, level asm.Level) {
		rng := rand.New(rand.NewPCG(1, uint64(level)))
		var miner mining.Miner
		for _, sh := range shapes {
			for _, metric := range []dist.Metric{dist.SquaredEuclidean, dist.Euclidean, dist.Cosine} {
				for _, s := range []mining.Strategy{mining.BatchAll, mining.BatchHard, mining.SemiHard} {
					for variant := range 4 {
						ids, withBatch := variant&1 != 0, variant&2 != 0
						rc := newRefsCase(t, rng, metric, sh.p, sh.k, sh.m, sh.dim, ids)
						cfg := mining.Config{Strategy: s, Margin: 0.5, WithBatch: withBatch,
							SoftMargin: rng.IntN(4) == 0 && sh.m < 1000,
							Reduction:  mining.Reduction(rng.IntN(3))}
						what := fmt.Sprintf("%v/%v/n=%d/m=%d/d=%d/ids=%v/batch=%v/soft=%v/%v",
							metric, s, sh.p*sh.k, sh.m, sh.dim, ids, withBatch, cfg.SoftMargin,
							cfg.Reduction)
						checkRefs(t, what, &miner, cfg, metric, rc)
					}
				}
			}
		}
	})
}

// checkRefs runs MineRefs on rc and compares it with the full matrix.
func checkRefs(t *testing.T, what string, miner *mining.Miner, cfg mining.Config,
	metric dist.Metric, rc *refsCase) {

	t.Helper()
	want := refMineRefs(cfg, rc)
	grad := make([]float32, len(rc.batch.Rows))
	got, err := miner.MineRefs(cfg, metric, rc.batch, rc.refs, grad)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if !slices.Equal(got.Triplets, want.triplets) {
		t.Fatalf("%s: triplets\n got %v\nwant %v", what, got.Triplets, want.triplets)
	}
	gs, ws := got.Stats, want.stats
	if gs.Anchors != ws.Anchors || gs.Pairs != ws.Pairs || gs.Triplets != ws.Triplets ||
		gs.Selected != ws.Selected || gs.Active != ws.Active {
		t.Fatalf("%s: stats\n got %+v\nwant %+v", what, gs, ws)
	}
	for _, v := range [][3]float64{{got.Loss, want.loss, 0}, {gs.MeanPositive, ws.MeanPositive, 1},
		{gs.MeanNegative, ws.MeanNegative, 1}} {
		if math.Abs(v[0]-v[1]) > 1e-6*(math.Abs(v[1])+1e-3) {
			t.Fatalf("%s: loss or mean distance %v, want %v", what, v[0], v[1])
		}
	}

	wantGrad := fullGrad(t, metric, rc, want.grad)
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
