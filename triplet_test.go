package triplet_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tripletmine/triplet"
	"github.com/tripletmine/triplet/asm"
	"github.com/tripletmine/triplet/internal/kerneltest"
)

var (
	strategies = []triplet.Strategy{triplet.BatchAll, triplet.BatchHard, triplet.SemiHard}
	metrics    = []triplet.Metric{triplet.SquaredEuclidean, triplet.Euclidean, triplet.Cosine}
)

func TestCrossChecks(t *testing.T) {
	labels := []int32{0, 0, 1, 1, 0, 2}
	e := []float32{0, 1, 0.5, 3, 2.5, 1.25}
	want := map[triplet.Strategy]float64{
		triplet.SemiHard: 0.71875, triplet.BatchAll: 1.8125, triplet.BatchHard: 2.85}
	kerneltest.Run(t, func(t *testing.T, _ asm.Level) {
		for s, loss := range want {
			m, err := triplet.NewMiner(triplet.Config{Strategy: s, Metric: triplet.Euclidean,
				Margin: 1})
			if err != nil {
				t.Fatal(err)
			}
			r, err := m.Mine(e, 1, labels, make([]float32, len(e)))
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(r.Loss-loss) > 1e-6 {
				t.Errorf("%v: loss %v, want %v", s, r.Loss, loss)
			}
		}
	})
}

// ref64 is the float64 reference of the whole pipeline: the metric on the
// (optionally normalised) rows, then the loss of the given triplets.
type ref64 struct {
	cfg triplet.Config
	dim int
}

func (r ref64) distance(x, y []float64) float64 {
	if r.cfg.Normalize {
		x, y = unit(x), unit(y)
	}
	var dot, xx, yy, sq float64
	for k := range x {
		dot += x[k] * y[k]
		xx += x[k] * x[k]
		yy += y[k] * y[k]
		sq += (x[k] - y[k]) * (x[k] - y[k])
	}
	switch r.cfg.Metric {
	case triplet.Euclidean:
		return math.Sqrt(sq)
	case triplet.Cosine:
		return 1 - dot/math.Sqrt(xx*yy)
	}
	return sq
}

func unit(x []float64) []float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	u := make([]float64, len(x))
	for k, v := range x {
		u[k] = v / math.Sqrt(s)
	}
	return u
}

// loss is the summed loss of triplets over the rows e, divided by divisor.
func (r ref64) loss(e []float64, triplets []triplet.Triplet, divisor float64) float64 {
	row := func(i int32) []float64 { return e[int(i)*r.dim : int(i+1)*r.dim] }
	var total float64
	for _, t := range triplets {
		z := r.distance(row(t.Anchor), row(t.Positive)) -
			r.distance(row(t.Anchor), row(t.Negative)) + float64(r.cfg.Margin)
		if r.cfg.SoftMargin {
			total += math.Log1p(math.Exp(z))
		} else {
			total += max(z, 0)
		}
	}
	return total / divisor
}

// allTriplets lists every valid triplet of a batch: those of MineRefs's
// rules with the batch as the only candidates.
func allTriplets(labels []int32) []triplet.Triplet {
	return refsProblem{labels: labels}.allRefTriplets(true)
}

// TestGradientFiniteDifferences checks the gradient with respect to the
// embeddings against central differences of the float64 loss, with the
// selections held fixed, for every strategy, metric, soft margin and
// normalisation, at every level. Batches whose triplets sit near the
// hinge's kink are redrawn, since the loss has no derivative there.
func TestGradientFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	labels := []int32{0, 1, 0, 2, 1, 0, 2, 1, 1}
	const dim = 3
	kerneltest.Run(t, func(t *testing.T, _ asm.Level) {
		for _, s := range strategies {
			for _, metric := range metrics {
				for _, soft := range []bool{false, true} {
					for _, normalize := range []bool{false, true} {
						cfg := triplet.Config{Strategy: s, Metric: metric, Margin: 0.5,
							SoftMargin: soft, Normalize: normalize}
						what := fmt.Sprintf("%v %v soft=%v normalize=%v", s, metric, soft,
							normalize)
						checkFiniteDifferences(t, rng, what, cfg, labels, dim)
					}
				}
			}
		}
	})
}

func checkFiniteDifferences(t *testing.T, rng *rand.Rand, what string, cfg triplet.Config,
	labels []int32, dim int) {

	t.Helper()
	m, err := triplet.NewMiner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ref := ref64{cfg, dim}
	n := len(labels)
	for range 50 {
		e := make([]float32, n*dim)
		for k := range e {
			e[k] = float32(rng.NormFloat64())
		}
		grad := make([]float32, len(e))
		r, err := m.Mine(e, dim, labels, grad)
		if err != nil {
			t.Fatal(err)
		}
		used := r.Triplets
		if cfg.Strategy == triplet.BatchAll {
			used = allTriplets(labels)
		}
		e64 := make([]float64, len(e))
		for k, v := range e {
			e64[k] = float64(v)
		}
		if nearKink(ref, e64, used) {
			continue
		}
		checkDifferences(t, what, ref, e64, used, r.Loss, grad)
		return
	}
	t.Fatalf("%s: every batch drawn sat near a kink", what)
}

// checkDifferences compares grad, a gradient with respect to the first
// len(grad) values of the rows e, with central differences of the float64
// loss of the triplets used, scaled to the loss the library reported.
func checkDifferences(t *testing.T, what string, ref ref64, e []float64,
	used []triplet.Triplet, loss float64, grad []float32) {

	t.Helper()
	divisor := ref.loss(e, used, 1) / loss
	if loss == 0 {
		divisor = 1
	}
	for k := range grad {
		const h = 1e-6
		x := e[k]
		e[k] = x + h
		up := ref.loss(e, used, divisor)
		e[k] = x - h
		down := ref.loss(e, used, divisor)
		e[k] = x
		numeric := (up - down) / (2 * h)
		if math.Abs(numeric-float64(grad[k])) > 1e-3*max(1, math.Abs(numeric)) {
			t.Fatalf("%s: dL/de[%d] = %v, numerically %v", what, k, grad[k], numeric)
		}
	}
}

// nearKink reports whether a triplet's z lies within 1e-3 of the hinge's
// kink at 0, where finite differences straddle two slopes.
func nearKink(ref ref64, e []float64, triplets []triplet.Triplet) bool {
	for _, tr := range triplets {
		one := ref.loss(e, []triplet.Triplet{tr}, 1)
		if !ref.cfg.SoftMargin && one < 1e-3 && one > 0 {
			return true
		}
		if !ref.cfg.SoftMargin && one == 0 {
			// z <= 0: check it is not just below the kink.
			shifted := ref
			shifted.cfg.Margin += 1e-3
			if ref.loss(e, []triplet.Triplet{tr}, 1) == 0 &&
				shifted.loss(e, []triplet.Triplet{tr}, 1) > 0 {
				return true
			}
		}
	}
	return false
}

func TestBadInput(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(-1))
	good := []float32{1, 0, 0, 1, 1, 1}
	cases := []struct {
		name   string
		cfg    triplet.Config
		e      []float32
		dim    int
		labels []int32
		grad   []float32
	}{
		{"dim 0", triplet.Config{}, good, 0, []int32{0, 1, 0}, nil},
		{"ragged", triplet.Config{}, good[:5], 2, []int32{0, 1, 0}, nil},
		{"one row", triplet.Config{}, good[:2], 2, []int32{0}, nil},
		{"labels", triplet.Config{}, good, 2, []int32{0, 1}, nil},
		{"grad", triplet.Config{}, good, 2, []int32{0, 1, 0}, make([]float32, 5)},
		{"NaN", triplet.Config{}, []float32{1, 0, nan, 1, 1, 1}, 2, []int32{0, 1, 0}, nil},
		{"Inf", triplet.Config{}, []float32{1, 0, 0, 1, 1, inf}, 2, []int32{0, 1, 0}, nil},
		{"overflow", triplet.Config{}, []float32{1, 0, 0, 1, 3e19, 1}, 2, []int32{0, 1, 0}, nil},
		{"zero norm cosine", triplet.Config{Metric: triplet.Cosine},
			[]float32{1, 0, 0, 0, 1, 1}, 2, []int32{0, 1, 0}, nil},
		{"zero norm normalize", triplet.Config{Normalize: true},
			[]float32{1, 0, 0, 0, 1, 1}, 2, []int32{0, 1, 0}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := triplet.NewMiner(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			in, labels := slices.Clone(c.e), slices.Clone(c.labels)
			grad := c.grad
			if grad == nil {
				grad = make([]float32, len(c.e))
			}
			for i := range grad {
				grad[i] = 7
			}
			_, err = m.Mine(c.e, c.dim, c.labels, grad)
			if !errors.Is(err, triplet.ErrInput) {
				t.Fatalf("error %v, want ErrInput", err)
			}
			t.Log(err)
			if slices.ContainsFunc(grad, func(v float32) bool { return v != 7 }) {
				t.Errorf("grad changed to %v", grad)
			}
			same := func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }
			if !slices.EqualFunc(in, c.e, same) || !slices.Equal(labels, c.labels) {
				t.Errorf("inputs changed")
			}
			// The Miner still works after an error.
			if _, err := m.Mine(good, 2, []int32{0, 1, 0}, nil); err != nil {
				t.Errorf("after the error: %v", err)
			}
		})
	}

	for _, cfg := range []triplet.Config{
		{Strategy: 7}, {Metric: 9}, {Reduction: 4}, {Margin: -0.1},
		{Margin: float32(math.NaN())}, {Margin: float32(math.Inf(1))},
	} {
		if _, err := triplet.NewMiner(cfg); !errors.Is(err, triplet.ErrInput) {
			t.Errorf("NewMiner(%+v): error %v", cfg, err)
		}
	}
}

// TestNoValidTriplet checks that batches with nothing to mine give a zero
// loss and gradient, not an error.
func TestNoValidTriplet(t *testing.T) {
	e := []float32{1, 2, 3, 4, 5, 6}
	for _, s := range strategies {
		m, _ := triplet.NewMiner(triplet.Config{Strategy: s, Margin: 1})
		for _, labels := range [][]int32{{4, 4, 4}, {1, 2, 3}} {
			grad := []float32{9, 9, 9, 9, 9, 9}
			r, err := m.Mine(e, 2, labels, grad)
			if err != nil || r.Loss != 0 || r.Stats.Triplets != 0 || len(r.Triplets) != 0 ||
				slices.ContainsFunc(grad, func(v float32) bool { return v != 0 }) {
				t.Errorf("%v labels %v: loss %v, stats %+v, grad %v, error %v", s, labels,
					r.Loss, r.Stats, grad, err)
			}
		}
	}
}

// pkBatch returns a batch of p classes of k rows each, in dim dimensions.
func pkBatch(rng *rand.Rand, p, k, dim int) ([]float32, []int32) {
	labels := make([]int32, p*k)
	e := make([]float32, p*k*dim)
	for i := range labels {
		labels[i] = int32(i / k)
		for d := range dim {
			e[i*dim+d] = float32(rng.NormFloat64() + 0.3*float64(i/k%3))
		}
	}
	return e, labels
}

func TestNoAllocationInSteadyState(t *testing.T) {
	if kerneltest.Race {
		t.Skip("the race detector's instrumentation allocates; counted in normal builds")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	e, labels := pkBatch(rng, 32, 4, 16)
	for _, s := range strategies {
		for _, metric := range metrics {
			m, _ := triplet.NewMiner(triplet.Config{Strategy: s, Metric: metric, Margin: 0.2,
				Normalize: metric == triplet.Cosine})
			grad := make([]float32, len(e))
			if _, err := m.Mine(e, 16, labels, grad); err != nil {
				t.Fatal(err)
			}
			allocs := testing.AllocsPerRun(10, func() { _, _ = m.Mine(e, 16, labels, grad) })
			if allocs != 0 {
				t.Errorf("%v %v: %v allocations per call", s, metric, allocs)
			}
		}
	}
}

func TestWorkersGiveIdenticalResults(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	e, labels := pkBatch(rng, 50, 4, 24)
	for _, s := range strategies {
		var losses []float64
		var grads [][]float32
		var triplets [][]triplet.Triplet
		for _, workers := range []int{1, 2} {
			m, _ := triplet.NewMiner(triplet.Config{Strategy: s, Metric: triplet.Euclidean,
				Margin: 0.2, Workers: workers})
			grad := make([]float32, len(e))
			r, err := m.Mine(e, 24, labels, grad)
			if err != nil {
				t.Fatal(err)
			}
			losses = append(losses, r.Loss)
			grads = append(grads, grad)
			triplets = append(triplets, slices.Clone(r.Triplets))
		}
		if losses[0] != losses[1] || !slices.Equal(grads[0], grads[1]) ||
			!slices.Equal(triplets[0], triplets[1]) {
			t.Errorf("%v: 1 and 2 workers differ", s)
		}
	}
}

func BenchmarkMine(b *testing.B) {
	for _, s := range strategies {
		b.Run("strategy="+s.String(), func(b *testing.B) {
			kerneltest.Bench(b, func(b *testing.B) {
				for _, n := range []int{256, 1024, 4096} {
					b.Run(fmt.Sprintf("n=%d/d=128", n), func(b *testing.B) {
						rng := rand.New(rand.NewPCG(1, 1))
						e, labels := pkBatch(rng, n/4, 4, 128)
						m, err := triplet.NewMiner(triplet.Config{Strategy: s,
							Metric: triplet.Euclidean, Margin: 0.2})
						if err != nil {
							b.Fatal(err)
						}
						grad := make([]float32, len(e))
						if _, err := m.Mine(e, 128, labels, grad); err != nil {
							b.Fatal(err) // the first call sizes the Miner's scratch
						}
						b.ReportAllocs()
						for b.Loop() {
							if _, err := m.Mine(e, 128, labels, grad); err != nil {
								b.Fatal(err)
							}
						}
						// Nominally 2·n²·d flops for the distances and as many
						// for the backward pass, as a matrix product counts them.
						flops := 4 * float64(n) * float64(n) * 128
						b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					})
				}
			})
		})
	}
}

func TestParseNames(t *testing.T) {
	for _, s := range strategies {
		if got, err := triplet.ParseStrategy(s.String()); err != nil || got != s {
			t.Errorf("ParseStrategy(%q) = %v, %v", s.String(), got, err)
		}
	}
	for _, m := range metrics {
		if got, err := triplet.ParseMetric(m.String()); err != nil || got != m {
			t.Errorf("ParseMetric(%q) = %v, %v", m.String(), got, err)
		}
	}
	if _, err := triplet.ParseStrategy("hardest"); err == nil {
		t.Error("ParseStrategy(hardest) gave no error")
	}
}
