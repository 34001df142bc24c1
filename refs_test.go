package triplet_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/tripletmine/triplet"
	"github.com/tripletmine/triplet/asm"
	"github.com/tripletmine/triplet/internal/kerneltest"
)

// refsProblem is a batch and references for the tests of MineRefs: its
// rows joined, batch first, so that a triplet's indices address them.
type refsProblem struct {
	dim               int
	labels, refLabels []int32
	ids, refIDs       []int64
	batch, refs       []float32
}

// joined returns the batch rows followed by the references, in float64.
func (p refsProblem) joined() []float64 {
	e := make([]float64, 0, len(p.batch)+len(p.refs))
	for _, v := range p.batch {
		e = append(e, float64(v))
	}
	for _, v := range p.refs {
		e = append(e, float64(v))
	}
	return e
}

// allRefTriplets lists every valid triplet of the problem under the rules
// of MineRefs.
func (p refsProblem) allRefTriplets(withBatch bool) []triplet.Triplet {
	n, m := len(p.labels), len(p.refLabels)
	label := func(c int) int32 {
		if c < n {
			return p.labels[c]
		}
		return p.refLabels[c-n]
	}
	candidate := func(a, c int) bool {
		if c < n {
			return withBatch && c != a
		}
		return p.ids == nil || p.ids[a] != p.refIDs[c-n]
	}
	var all []triplet.Triplet
	for a := range n {
		for q := range n + m {
			for r := range n + m {
				if candidate(a, q) && candidate(a, r) && label(q) == p.labels[a] &&
					label(r) != p.labels[a] {
					all = append(all, triplet.Triplet{Anchor: int32(a), Positive: int32(q),
						Negative: int32(r)})
				}
			}
		}
	}
	return all
}

// newRefsProblem draws a batch of 8 rows in 3 classes and 10 references in
// 4, two of which are batch samples; with unit, the references have norm 1.
func newRefsProblem(rng *rand.Rand, unitRefs bool) refsProblem {
	const dim = 3
	p := refsProblem{dim: dim,
		labels:    []int32{0, 1, 0, 2, 1, 0, 2, 1},
		refLabels: []int32{0, 2, 1, 3, 0, 1, 2, 3, 0, 1},
		ids:       []int64{10, 11, 12, 13, 14, 15, 16, 17},
		refIDs:    []int64{10, 13, 20, 21, 22, 23, 24, 25, 26, 27},
	}
	p.batch = make([]float32, len(p.labels)*dim)
	p.refs = make([]float32, len(p.refLabels)*dim)
	for k := range p.batch {
		p.batch[k] = float32(rng.NormFloat64())
	}
	for k := range p.refs {
		p.refs[k] = float32(rng.NormFloat64())
	}
	if unitRefs {
		for j := range p.refLabels {
			row := p.refs[j*dim : (j+1)*dim]
			var sum float64
			for _, v := range row {
				sum += float64(v) * float64(v)
			}
			for k := range row {
				row[k] = float32(float64(row[k]) / math.Sqrt(sum))
			}
		}
	}
	return p
}

// TestMineRefsGradientFiniteDifferences checks MineRefs's gradient with
// respect to the batch against central differences of the float64 loss of
// its selections, the references held constant, for every strategy,
// metric, soft margin, normalisation and WithBatch, at every level.
func TestMineRefsGradientFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	kerneltest.Run(t, func(t *testing.T, _ asm.Level) {
		for _, s := range strategies {
			for _, metric := range metrics {
				for variant := range 8 {
					soft, normalize, withBatch := variant&1 != 0, variant&2 != 0, variant&4 != 0
					cfg := triplet.Config{Strategy: s, Metric: metric, Margin: 0.5,
						SoftMargin: soft, Normalize: normalize, WithBatch: withBatch}
					what := fmt.Sprintf("%v %v soft=%v normalize=%v batch=%v", s, metric, soft,
						normalize, withBatch)
					checkRefsFiniteDifferences(t, rng, what, cfg)
				}
			}
		}
	})
}

func checkRefsFiniteDifferences(t *testing.T, rng *rand.Rand, what string, cfg triplet.Config) {
	t.Helper()
	m, err := triplet.NewMiner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ref := ref64{cfg, 3}
	for range 50 {
		p := newRefsProblem(rng, cfg.Normalize)
		grad := make([]float32, len(p.batch))
		r, err := m.MineRefs(p.batch, p.dim, p.labels, p.ids,
			triplet.Refs{Rows: p.refs, Labels: p.refLabels, IDs: p.refIDs}, grad)
		if err != nil {
			t.Fatal(err)
		}
		used := r.Triplets
		if cfg.Strategy == triplet.BatchAll {
			used = p.allRefTriplets(cfg.WithBatch)
		}
		e := p.joined()
		if nearKink(ref, e, used) {
			continue
		}
		checkDifferences(t, what, ref, e, used, r.Loss, grad)
		return
	}
	t.Fatalf("%s: every batch drawn sat near a kink", what)
}

// TestMineRefsBadInput checks the facade's own checks: each returns
// ErrInput and leaves grad alone.
func TestMineRefsBadInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	p := newRefsProblem(rng, false)
	refs := triplet.Refs{Rows: p.refs, Labels: p.refLabels, IDs: p.refIDs}
	bank, err := triplet.NewBank(4, p.dim+1, 0)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		cfg  triplet.Config
		call func(m *triplet.Miner, grad []float32) error
	}{
		{"no rows", triplet.Config{}, func(m *triplet.Miner, grad []float32) error {
			_, err := m.MineRefs(nil, p.dim, nil, nil, refs, grad)
			return err
		}},
		{"ids length", triplet.Config{}, func(m *triplet.Miner, grad []float32) error {
			_, err := m.MineRefs(p.batch, p.dim, p.labels, p.ids[1:], refs, grad)
			return err
		}},
		{"references not of unit norm under Normalize", triplet.Config{Normalize: true},
			func(m *triplet.Miner, grad []float32) error {
				_, err := m.MineRefs(p.batch, p.dim, p.labels, p.ids, refs, grad)
				return err
			}},
		{"CollectAll", triplet.Config{CollectAll: true}, func(m *triplet.Miner, grad []float32) error {
			_, err := m.MineRefs(p.batch, p.dim, p.labels, p.ids, refs, grad)
			return err
		}},
		{"nil bank", triplet.Config{}, func(m *triplet.Miner, grad []float32) error {
			_, err := m.MineBank(p.batch, p.dim, p.labels, p.ids, nil, grad)
			return err
		}},
		{"bank of another dim", triplet.Config{}, func(m *triplet.Miner, grad []float32) error {
			_, err := m.MineBank(p.batch, p.dim, p.labels, p.ids, bank, grad)
			return err
		}},
	}
	for _, c := range cases {
		m, err := triplet.NewMiner(c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		grad := make([]float32, len(p.batch))
		for k := range grad {
			grad[k] = 42
		}
		err = c.call(m, grad)
		if !errors.Is(err, triplet.ErrInput) {
			t.Errorf("%s: error %v, want ErrInput", c.name, err)
		}
		for _, v := range grad {
			if v != 42 {
				t.Fatalf("%s: grad changed", c.name)
			}
		}
	}
	if _, err := triplet.NewBank(0, 3, 0); !errors.Is(err, triplet.ErrInput) {
		t.Errorf("NewBank with capacity 0: %v, want ErrInput", err)
	}
}

// TestBankOfMillions mines batches against a bank of 4M rows of dim 8
// with every strategy and checks that no call allocates anything near the
// n×M distance matrix (here 32 × 4M floats, 512 MB): the first call sizes
// scratch space of O(M) and the next allocates nothing.
func TestBankOfMillions(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a bank of 4M rows")
	}
	const capacity, dim, p, k = 4 << 20, 8, 8, 4
	n := p * k
	bank, err := triplet.NewBank(capacity, dim, capacity)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	const fill = 1 << 16
	rows, labels, ids := make([]float32, fill*dim), make([]int32, fill), make([]int64, fill)
	for start := 0; start < capacity; start += fill {
		for i := range labels {
			labels[i] = int32(rng.IntN(1 << 16))
			ids[i] = int64(start + i)
		}
		for i := range rows {
			rows[i] = float32(rng.NormFloat64())
		}
		if err := bank.Add(rows, labels, ids); err != nil {
			t.Fatal(err)
		}
	}

	matrix := uint64(n) * capacity * 4
	for _, s := range strategies {
		m, err := triplet.NewMiner(triplet.Config{Strategy: s, Metric: triplet.Euclidean,
			Margin: 0.2})
		if err != nil {
			t.Fatal(err)
		}
		batch, batchLabels := pkBatch(rng, p, k, dim)
		batchIDs := make([]int64, n)
		for i := range batchIDs {
			batchIDs[i] = int64(i) // the bank holds these samples too
		}
		grad := make([]float32, len(batch))
		refs := bank.Refs()
		for call := range 2 {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			r, err := m.MineRefs(batch, dim, batchLabels, batchIDs, refs, grad)
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			allocated := after.TotalAlloc - before.TotalAlloc
			limit := matrix / 8 // O(M) scratch: norms, groups of references
			if call == 1 {
				limit = 1 << 20 // nothing but the runtime's own noise
			}
			t.Logf("%v, call %d: allocated %d bytes", s, call, allocated)
			if allocated > limit {
				t.Errorf("%v, call %d: allocated %d bytes (the n×M matrix is %d)", s, call,
					allocated, matrix)
			}
			if r.Stats.Triplets == 0 || math.IsNaN(r.Loss) {
				t.Fatalf("%v: nothing mined: %+v", s, r.Stats)
			}
		}
	}
}

// benchRefs caches the references of BenchmarkMineRefs by size.
var benchRefs = map[int][]float32{}

// refsFor returns m references of dim values, uniform in [-1, 1).
func refsFor(m, dim int) []float32 {
	key := m*4096 + dim
	if r, ok := benchRefs[key]; ok {
		return r
	}
	r := make([]float32, m*dim)
	state := uint64(0x9e3779b97f4a7c15)
	for i := range r {
		state ^= state << 13
		state ^= state >> 7
		state ^= state << 17
		r[i] = float32(int32(state>>32)) / (1 << 31)
	}
	benchRefs[key] = r
	return r
}

// BenchmarkMineRefs mines a PK batch (n/4 classes of 4) against m
// references in classes of 4, each of the batch's classes among them,
// with the Euclidean metric, margin 0.2 and the gradient.
func BenchmarkMineRefs(b *testing.B) {
	const dim = 128
	for _, s := range strategies {
		b.Run("strategy="+s.String(), func(b *testing.B) {
			kerneltest.Bench(b, func(b *testing.B) {
				for _, m := range []int{1 << 16, 1 << 20} {
					n := 512
					b.Run(fmt.Sprintf("n=%d/m=%d/d=%d", n, m, dim), func(b *testing.B) {
						refs := refsFor(m, dim)
						refLabels := make([]int32, m)
						for j := range refLabels {
							refLabels[j] = int32(j / 4)
						}
						rng := rand.New(rand.NewPCG(1, 1))
						e, labels := pkBatch(rng, n/4, 4, dim)
						miner, err := triplet.NewMiner(triplet.Config{Strategy: s,
							Metric: triplet.Euclidean, Margin: 0.2})
						if err != nil {
							b.Fatal(err)
						}
						grad := make([]float32, len(e))
						r := triplet.Refs{Rows: refs, Labels: refLabels}
						if _, err := miner.MineRefs(e, dim, labels, nil, r, grad); err != nil {
							b.Fatal(err) // the first call sizes the Miner's scratch
						}
						b.ReportAllocs()
						for b.Loop() {
							if _, err := miner.MineRefs(e, dim, labels, nil, r, grad); err != nil {
								b.Fatal(err)
							}
						}
						// One pass over the n×m distances, 2·n·m·d flops as a
						// matrix product counts them.
						flops := 2 * float64(n) * float64(m) * dim
						b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					})
				}
			})
		})
	}
}

// TestMineBankAllocatesNothing runs the loop of cross-batch memory
// training: once the bank is full, mining a batch against it and adding
// the batch allocates nothing, for every strategy and metric.
func TestMineBankAllocatesNothing(t *testing.T) {
	if kerneltest.Race {
		t.Skip("the race detector's instrumentation allocates; counted in normal builds")
	}
	kerneltest.SkipUnderEmulation(t, "counting allocations")
	const capacity, dim = 1000, 16
	rng := rand.New(rand.NewPCG(13, 14))
	for _, s := range strategies {
		for _, metric := range metrics {
			m, err := triplet.NewMiner(triplet.Config{Strategy: s, Metric: metric, Margin: 0.2,
				Normalize: metric != triplet.SquaredEuclidean})
			if err != nil {
				t.Fatal(err)
			}
			bank, err := triplet.NewBank(capacity, dim, 200)
			if err != nil {
				t.Fatal(err)
			}
			e, labels := pkBatch(rng, 16, 4, dim)
			ids := make([]int64, len(labels))
			grad := make([]float32, len(e))
			step := func() {
				for i := range ids {
					ids[i] += int64(len(ids))
				}
				if _, err := m.MineBank(e, dim, labels, ids, bank, grad); err != nil {
					t.Fatal(err)
				}
			}
			for bank.Len() < capacity {
				step()
			}
			runtime.GC() // see TestMineRefsNoAllocationInSteadyState in mining
			step()
			if allocs := testing.AllocsPerRun(20, step); allocs != 0 {
				t.Errorf("%v %v: %v allocations per batch", s, metric, allocs)
			}
		}
	}
}
