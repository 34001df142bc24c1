package mining_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tripletmine/triplet/dist"
	"github.com/tripletmine/triplet/internal/kerneltest"
	"github.com/tripletmine/triplet/mining"
)

// bankSamples returns count samples of two values from number first on:
// sample i is the row (i, -i/2), label 100+i and id 1000+i, so that every
// slot of a bank says which sample it holds.
func bankSamples(first, count int) ([]float32, []int32, []int64) {
	rows := make([]float32, 0, 2*count)
	labels := make([]int32, 0, count)
	ids := make([]int64, 0, count)
	for i := first; i < first+count; i++ {
		rows = append(rows, float32(i), -float32(i)/2)
		labels = append(labels, int32(100+i))
		ids = append(ids, int64(1000+i))
	}
	return rows, labels, ids
}

// checkSlots checks that slot k of a bank of bankSamples holds sample
// want[k], with its label and (if withIDs) its id, and nothing more.
func checkSlots(t *testing.T, what string, b *mining.Bank, withIDs bool, want ...int) {
	t.Helper()
	r := b.Refs()
	var rows []float32
	var labels []int32
	var ids []int64
	for _, i := range want {
		row, label, id := bankSamples(i, 1)
		rows, labels, ids = append(rows, row...), append(labels, label...), append(ids, id...)
	}
	if !withIDs {
		ids = nil
	}
	if b.Len() != len(want) || !slices.Equal(r.Rows, rows) || !slices.Equal(r.Labels, labels) ||
		!slices.Equal(r.IDs, ids) {
		t.Fatalf("%s: the bank holds %d rows %v, labels %v, ids %v; want samples %v", what,
			b.Len(), r.Rows, r.Labels, r.IDs, want)
	}
}

// sameBank reports how the rows, labels and ids of two banks differ, or
// returns "".
func sameBank(got, want *mining.Bank) string {
	g, w := got.Refs(), want.Refs()
	switch {
	case got.Len() != want.Len() || got.Ready() != want.Ready():
		return fmt.Sprintf("%d rows (ready %v), want %d (ready %v)", got.Len(), got.Ready(),
			want.Len(), want.Ready())
	case !sameBits(g.Rows, w.Rows):
		k := firstChange(g.Rows, w.Rows)
		return fmt.Sprintf("value %d (slot %d) is %v, want %v", k, k/got.Dim(), g.Rows[k],
			w.Rows[k])
	case !slices.Equal(g.Labels, w.Labels):
		return fmt.Sprintf("labels %v, want %v", g.Labels, w.Labels)
	case !slices.Equal(g.IDs, w.IDs) || (g.IDs == nil) != (w.IDs == nil):
		return fmt.Sprintf("ids %v, want %v", g.IDs, w.IDs)
	}
	return ""
}

// TestBankRing fills a bank of 5 slots that is ready from 3 rows on: the
// newest rows overwrite the oldest, slot by slot, with their labels and
// ids, and Refs lists the slots in order.
func TestBankRing(t *testing.T) {
	b, err := mining.NewBank(5, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if b.Cap() != 5 || b.Dim() != 2 || b.Len() != 0 || b.Ready() {
		t.Fatalf("new bank: cap %d, dim %d, len %d, ready %v", b.Cap(), b.Dim(), b.Len(),
			b.Ready())
	}
	checkSlots(t, "new bank", b, false)

	next := 0
	add := func(b *mining.Bank, count int, withIDs bool) {
		t.Helper()
		rows, labels, ids := bankSamples(next, count)
		if !withIDs {
			ids = nil
		}
		if err := b.Add(rows, labels, ids); err != nil {
			t.Fatalf("adding samples %d to %d: %v", next, next+count-1, err)
		}
		next += count
	}

	add(b, 2, true)
	checkSlots(t, "2 rows", b, true, 0, 1)
	if b.Ready() {
		t.Error("ready with 2 rows of 3")
	}
	add(b, 2, true)
	checkSlots(t, "4 rows", b, true, 0, 1, 2, 3)
	if !b.Ready() {
		t.Error("not ready with 4 rows of 3")
	}
	add(b, 3, true)
	checkSlots(t, "7 rows", b, true, 5, 6, 2, 3, 4)

	// The same rows one at a time fill the same slots.
	oneByOne, err := mining.NewBank(5, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	next = 0
	for range 7 {
		add(oneByOne, 1, true)
	}
	if d := sameBank(oneByOne, b); d != "" {
		t.Errorf("one row at a time: %s", d)
	}

	// Of 7 rows at once, the last 5 stay, from the slot of the oldest row
	// on; the next row overwrites the oldest of them.
	add(b, 7, true)
	checkSlots(t, "14 rows", b, true, 12, 13, 9, 10, 11)
	if b.Cap() != 5 || !b.Ready() {
		t.Errorf("full bank: cap %d, ready %v", b.Cap(), b.Ready())
	}
	add(b, 1, true)
	checkSlots(t, "15 rows", b, true, 12, 13, 14, 10, 11)

	b.Reset()
	checkSlots(t, "reset", b, true)
	if b.Ready() || b.Cap() != 5 {
		t.Errorf("reset bank: ready %v, cap %d", b.Ready(), b.Cap())
	}
	next = 20
	add(b, 2, false)
	checkSlots(t, "reset, then 2 rows without ids", b, false, 20, 21)
}

// TestBankIDs checks that a bank holds ids for all its rows or for none,
// until it is reset.
func TestBankIDs(t *testing.T) {
	b, err := mining.NewBank(4, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Ready() {
		t.Error("a bank of minimum 0 rows is not ready at once")
	}
	rows, labels, ids := bankSamples(0, 2)
	if err := b.Add(rows, labels, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Add(rows, labels, ids); !errors.Is(err, mining.ErrShape) {
		t.Errorf("ids after rows without: error %v, want %v", err, mining.ErrShape)
	}
	checkSlots(t, "ids after rows without", b, false, 0, 1)

	b.Reset()
	if b.Len() != 0 || !b.Ready() {
		t.Errorf("reset bank of minimum 0: len %d, ready %v", b.Len(), b.Ready())
	}
	if err := b.Add(rows, labels, ids); err != nil {
		t.Fatalf("ids after a reset: %v", err)
	}
	checkSlots(t, "ids after a reset", b, true, 0, 1)
	if err := b.Add(rows, labels, nil); !errors.Is(err, mining.ErrShape) {
		t.Errorf("no ids after rows with: error %v, want %v", err, mining.ErrShape)
	}
	checkSlots(t, "no ids after rows with", b, true, 0, 1)
}

// TestBankAddErrors gives Add one bad batch at a time: each is an error
// that errors.Is recognises, and the bank stays as a bank that never saw
// it, down to the slot the next row goes to.
func TestBankAddErrors(t *testing.T) {
	const dim = 3
	good := func() ([]float32, []int32, []int64) {
		return []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}, []int32{0, 1, 0}, []int64{7, 8, 9}
	}
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	cases := []struct {
		what   string
		change func(rows *[]float32, labels *[]int32, ids *[]int64)
		want   error
	}{
		{"rows not a multiple of dim", func(r *[]float32, _ *[]int32, _ *[]int64) {
			*r = (*r)[:8]
		}, mining.ErrShape},
		{"too few labels", func(_ *[]float32, l *[]int32, _ *[]int64) {
			*l = (*l)[:2]
		}, mining.ErrShape},
		{"too many labels", func(_ *[]float32, l *[]int32, _ *[]int64) {
			*l = append(*l, 4)
		}, mining.ErrShape},
		{"too few ids", func(_ *[]float32, _ *[]int32, ids *[]int64) {
			*ids = (*ids)[:2]
		}, mining.ErrShape},
		{"empty ids", func(_ *[]float32, _ *[]int32, ids *[]int64) {
			*ids = []int64{}
		}, mining.ErrShape},
		{"no ids", func(_ *[]float32, _ *[]int32, ids *[]int64) {
			*ids = nil
		}, mining.ErrShape},
		{"NaN in the last row", func(r *[]float32, _ *[]int32, _ *[]int64) {
			(*r)[7] = nan
		}, dist.ErrNotFinite},
		{"+Inf", func(r *[]float32, _ *[]int32, _ *[]int64) {
			(*r)[3] = inf
		}, dist.ErrNotFinite},
		{"-Inf", func(r *[]float32, _ *[]int32, _ *[]int64) {
			(*r)[8] = -inf
		}, dist.ErrNotFinite},
		{"a row of huge norm", func(r *[]float32, _ *[]int32, _ *[]int64) {
			(*r)[6], (*r)[7], (*r)[8] = 1e30, 1e30, 1e30
		}, dist.ErrTooLarge},
	}

	// bank sees every batch, twin only the good ones.
	bank, err := mining.NewBank(4, dim, 2)
	if err != nil {
		t.Fatal(err)
	}
	twin, err := mining.NewBank(4, dim, 2)
	if err != nil {
		t.Fatal(err)
	}
	for round, c := range cases {
		rows, labels, ids := good()
		for k := range rows {
			rows[k] += float32(round)
		}
		if err := bank.Add(rows, labels, ids); err != nil {
			t.Fatal(err)
		}
		if err := twin.Add(rows, labels, ids); err != nil {
			t.Fatal(err)
		}

		rows, labels, ids = good()
		c.change(&rows, &labels, &ids)
		if err := bank.Add(rows, labels, ids); !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.what, err, c.want)
		}
		if d := sameBank(bank, twin); d != "" {
			t.Errorf("%s: the bank changed: %s", c.what, d)
		}
	}

	// More rows than the bank holds are checked all the same, the ones
	// that would be overwritten too.
	rows := make([]float32, 6*dim)
	labels := make([]int32, 6)
	ids := make([]int64, 6)
	rows[1] = nan
	if err := bank.Add(rows, labels, ids); !errors.Is(err, dist.ErrNotFinite) {
		t.Errorf("NaN in a row beyond the capacity: error %v, want %v", err, dist.ErrNotFinite)
	}
	if d := sameBank(bank, twin); d != "" {
		t.Errorf("NaN in a row beyond the capacity: the bank changed: %s", d)
	}

	// A refused first batch does not settle whether the bank holds ids.
	fresh, err := mining.NewBank(4, dim, 2)
	if err != nil {
		t.Fatal(err)
	}
	r, l, i := good()
	r[0] = nan
	if err := fresh.Add(r, l, i); !errors.Is(err, dist.ErrNotFinite) {
		t.Errorf("NaN in a first batch with ids: error %v, want %v", err, dist.ErrNotFinite)
	}
	r, l, _ = good()
	if err := fresh.Add(r, l, nil); err != nil || fresh.Len() != 3 {
		t.Errorf("a batch without ids after a refused one with: error %v, %d rows", err,
			fresh.Len())
	}

	// A bank without ids refuses them the same way.
	noIDs, err := mining.NewBank(4, dim, 2)
	if err != nil {
		t.Fatal(err)
	}
	r, l, _ = good()
	if err := noIDs.Add(r, l, nil); err != nil {
		t.Fatal(err)
	}
	before := cloneRefs(noIDs.Refs())
	r, l, i = good()
	if err := noIDs.Add(r, l, i); !errors.Is(err, mining.ErrShape) {
		t.Errorf("ids after rows without: error %v, want %v", err, mining.ErrShape)
	}
	if after := noIDs.Refs(); noIDs.Len() != 3 || !sameBits(after.Rows, before.Rows) ||
		after.IDs != nil {
		t.Errorf("ids after rows without: the bank changed to %+v", after)
	}
}

// TestNewBankErrors checks the shapes NewBank refuses and the extremes it
// accepts.
func TestNewBankErrors(t *testing.T) {
	for _, c := range []struct{ capacity, dim, minRows int }{
		{5, 0, 0}, {5, -1, 0}, {0, 2, 0}, {-3, 2, 0}, {5, 2, -1}, {5, 2, 6},
	} {
		b, err := mining.NewBank(c.capacity, c.dim, c.minRows)
		if !errors.Is(err, mining.ErrShape) || b != nil {
			t.Errorf("NewBank(%d, %d, %d): %v, error %v; want %v", c.capacity, c.dim,
				c.minRows, b, err, mining.ErrShape)
		}
	}
	for _, c := range []struct{ capacity, dim, minRows int }{
		{1, 1, 0}, {1, 1, 1}, {5, 2, 5},
	} {
		b, err := mining.NewBank(c.capacity, c.dim, c.minRows)
		if err != nil || b.Cap() != c.capacity || b.Dim() != c.dim ||
			b.Ready() != (c.minRows == 0) {
			t.Errorf("NewBank(%d, %d, %d): error %v", c.capacity, c.dim, c.minRows, err)
		}
	}
}

// TestBankAddAllocatesNothing checks that once NewBank has allocated the
// bank's storage, Add allocates nothing: not in steady state, not on the
// first call and not for a batch larger than any before.
func TestBankAddAllocatesNothing(t *testing.T) {
	if kerneltest.Race {
		t.Skip("the race detector's instrumentation allocates; counted in normal builds")
	}
	const capacity, dim, runs = 64, 16, 10
	rng := rand.New(rand.NewPCG(31, 32))
	batch := func(count int) ([]float32, []int32, []int64) {
		rows := make([]float32, count*dim)
		for k := range rows {
			rows[k] = float32(rng.NormFloat64())
		}
		labels, ids := make([]int32, count), make([]int64, count)
		for i := range count {
			labels[i], ids[i] = int32(rng.IntN(8)), int64(i)
		}
		return rows, labels, ids
	}
	small, smallLabels, smallIDs := batch(24)
	large, largeLabels, largeIDs := batch(3 * capacity)

	newBank := func() *mining.Bank {
		b, err := mining.NewBank(capacity, dim, 0)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	b := newBank()
	if a := testing.AllocsPerRun(runs, func() {
		_ = b.Add(small, smallLabels, smallIDs)
	}); a != 0 {
		t.Errorf("steady state: %v allocations per Add", a)
	}
	if a := testing.AllocsPerRun(runs, func() {
		_ = b.Add(large, largeLabels, largeIDs)
	}); a != 0 {
		t.Errorf("steady state, more rows than the capacity: %v allocations per Add", a)
	}

	// AllocsPerRun calls once before it counts, so each of these takes a
	// bank of its own that no Add has touched yet, or only smaller ones.
	banks := make([]*mining.Bank, runs+1)
	for i := range banks {
		banks[i] = newBank()
	}
	next := 0
	if a := testing.AllocsPerRun(runs, func() {
		_ = banks[next].Add(small, smallLabels, smallIDs)
		next++
	}); a != 0 {
		t.Errorf("first Add after NewBank: %v allocations", a)
	}
	next = 0
	if a := testing.AllocsPerRun(runs, func() {
		_ = banks[next].Add(large, largeLabels, largeIDs)
		next++
	}); a != 0 {
		t.Errorf("a batch larger than any before: %v allocations per Add", a)
	}
	for _, bank := range banks {
		if bank.Len() != capacity {
			t.Fatalf("a bank holds %d rows, want %d", bank.Len(), capacity)
		}
	}
}

// bankPool is a set of samples that batches for a bank are drawn from, so
// that a sample comes back, with its id and label, in later batches.
type bankPool struct {
	rows   []float32
	labels []int32
	ids    []int64
	dim    int
}

func newBankPool(rng *rand.Rand, size, classes, dim int) bankPool {
	p := bankPool{rows: make([]float32, size*dim), labels: make([]int32, size),
		ids: make([]int64, size), dim: dim}
	for k := range p.rows {
		p.rows[k] = float32(rng.NormFloat64())
	}
	for i := range size {
		p.labels[i], p.ids[i] = int32(i%classes), int64(500+i)
	}
	return p
}

// batch draws n distinct samples, their rows moved a little (as a model
// under training moves them), with ids or without.
func (p bankPool) batch(rng *rand.Rand, n int, withIDs bool) mining.Batch {
	dim := p.dim
	b := mining.Batch{Rows: make([]float32, n*dim), Dim: dim, Labels: make([]int32, n)}
	if withIDs {
		b.IDs = make([]int64, n)
	}
	for i, s := range rng.Perm(len(p.labels))[:n] {
		for k := range dim {
			b.Rows[i*dim+k] = p.rows[s*dim+k] + float32(rng.NormFloat64()*0.05)
		}
		b.Labels[i] = p.labels[s]
		if withIDs {
			b.IDs[i] = p.ids[s]
		}
	}
	return b
}

// TestMineBank mines a stream of batches against a bank: until the bank
// is ready, as MineRefs against the batch alone; then as MineRefs against
// the bank's rows (as they were before the call) and the batch. Either
// way the batch then joins the bank. The results must agree bit for bit.
func TestMineBank(t *testing.T) {
	const n, dim = 6, 5
	rng := rand.New(rand.NewPCG(33, 34))
	pool := newBankPool(rng, 20, 4, dim)
	for _, metric := range metrics {
		var miner, refMiner mining.Miner
		for _, s := range strategies {
			for _, withIDs := range []bool{false, true} {
				bank, err := mining.NewBank(16, dim, 10)
				if err != nil {
					t.Fatal(err)
				}
				twin, err := mining.NewBank(16, dim, 10)
				if err != nil {
					t.Fatal(err)
				}
				cfg := mining.Config{Strategy: s, Margin: 0.5}
				selected := int64(0)
				for step := range 6 {
					what := fmt.Sprintf("%v/%v/ids=%v/step %d", metric, s, withIDs, step)
					batch := pool.batch(rng, n, withIDs)
					ready := bank.Ready()
					if ready != (step >= 2) {
						t.Fatalf("%s: ready %v with %d rows", what, ready, bank.Len())
					}
					var refs mining.Refs
					if ready {
						refs = cloneRefs(bank.Refs())
					}
					withBatch := cfg
					withBatch.WithBatch = true
					grad := sentinelGrad(n * dim)
					r, err := refMiner.MineRefs(withBatch, metric, batch, refs, grad)
					if err != nil {
						t.Fatalf("%s: MineRefs: %v", what, err)
					}
					want := keep(r, grad)

					grad = sentinelGrad(n * dim)
					r, err = miner.MineBank(cfg, metric, batch, bank, grad)
					if err != nil {
						t.Fatalf("%s: %v", what, err)
					}
					if d := bitDiff(keep(r, grad), want); d != "" {
						t.Fatalf("%s: MineBank differs from MineRefs: %s", what, d)
					}
					selected += r.Stats.Selected

					if err := twin.Add(batch.Rows, batch.Labels, batch.IDs); err != nil {
						t.Fatal(err)
					}
					if d := sameBank(bank, twin); d != "" {
						t.Fatalf("%s: the bank does not hold the batch: %s", what, d)
					}
				}
				if selected == 0 {
					t.Fatalf("%v/%v: nothing selected; the stream tests nothing", metric, s)
				}
			}
		}
	}
}

// TestMineBankAcrossMetrics mines a ready bank with one Miner under one
// metric, then another: the bank must hold its rows and the batches,
// unchanged, and each result must be a new Miner's.
func TestMineBankAcrossMetrics(t *testing.T) {
	const n, dim = 6, 5
	rng := rand.New(rand.NewPCG(35, 36))
	pool := newBankPool(rng, 20, 4, dim)
	bank, err := mining.NewBank(24, dim, 6)
	if err != nil {
		t.Fatal(err)
	}
	twin, err := mining.NewBank(24, dim, 6)
	if err != nil {
		t.Fatal(err)
	}
	var miner mining.Miner
	order := []dist.Metric{dist.Euclidean, dist.Cosine, dist.SquaredEuclidean, dist.Cosine}
	for step := range 8 {
		metric := order[step%len(order)]
		cfg := mining.Config{Strategy: strategies[step%3], Margin: 0.5}
		what := fmt.Sprintf("step %d, %v/%v", step, metric, cfg.Strategy)
		batch := pool.batch(rng, n, true)

		var fresh mining.Miner
		twinRefs := mining.Refs{}
		if twin.Ready() {
			twinRefs = cloneRefs(twin.Refs())
		}
		withBatch := cfg
		withBatch.WithBatch = true
		r, err := fresh.MineRefs(withBatch, metric, batch, twinRefs, nil)
		if err != nil {
			t.Fatalf("%s, new miner: %v", what, err)
		}
		want := keep(r, nil)

		r, err = miner.MineBank(cfg, metric, batch, bank, nil)
		if d := sameBank(bank, twin); err != nil && d != "" {
			t.Fatalf("%s: %v, and the bank changed before the batch joined it: %s", what,
				err, d)
		}
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if err := twin.Add(batch.Rows, batch.Labels, batch.IDs); err != nil {
			t.Fatal(err)
		}
		if d := sameBank(bank, twin); d != "" {
			t.Fatalf("%s: the bank's rows changed: %s", what, d)
		}
		if d := bitDiff(keep(r, nil), want); d != "" {
			t.Fatalf("%s: differs from a new miner's: %s", what, d)
		}
	}
}

// TestMineBankErrors checks that MineBank reports a batch that does not
// fit its bank, and any error of MineRefs, before it changes the bank or
// the gradient.
func TestMineBankErrors(t *testing.T) {
	const n, dim = 4, 5
	rng := rand.New(rand.NewPCG(37, 38))
	pool := newBankPool(rng, 12, 3, dim)

	fill := func(withIDs bool) *mining.Bank {
		b, err := mining.NewBank(10, dim, 4)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			batch := pool.batch(rng, n, withIDs)
			if err := b.Add(batch.Rows, batch.Labels, batch.IDs); err != nil {
				t.Fatal(err)
			}
		}
		return b
	}
	cases := []struct {
		what     string
		bankIDs  bool
		batchIDs bool
		change   func(cfg *mining.Config, b *mining.Batch)
		want     error
	}{
		{"batch of another dim", true, true, func(_ *mining.Config, b *mining.Batch) {
			b.Dim = 4
			b.Rows = b.Rows[:n*4]
		}, mining.ErrShape},
		{"batch without ids, bank with", true, false, nil, mining.ErrShape},
		{"batch with ids, bank without", false, true, nil, mining.ErrShape},
		{"batch labels", true, true, func(_ *mining.Config, b *mining.Batch) {
			b.Labels = b.Labels[:n-1]
		}, mining.ErrShape},
		{"NaN in the batch", true, true, func(_ *mining.Config, b *mining.Batch) {
			b.Rows[3] = float32(math.NaN())
		}, dist.ErrNotFinite},
		{"batch row of huge norm", false, false, func(_ *mining.Config, b *mining.Batch) {
			b.Rows[dim] = 1e30
		}, dist.ErrTooLarge},
		{"unknown strategy", true, true, func(cfg *mining.Config, _ *mining.Batch) {
			cfg.Strategy = -1
		}, mining.ErrStrategy},
		{"CollectAll", true, true, func(cfg *mining.Config, _ *mining.Batch) {
			cfg.Strategy, cfg.CollectAll = mining.BatchAll, true
		}, mining.ErrUnsupported},
	}
	var miner mining.Miner
	for _, c := range cases {
		bank := fill(c.bankIDs)
		before := cloneRefs(bank.Refs())
		batch := pool.batch(rng, n, c.batchIDs)
		cfg := mining.Config{Strategy: mining.BatchHard, Margin: 0.5}
		if c.change != nil {
			c.change(&cfg, &batch)
		}
		grad := sentinelGrad(len(batch.Rows))
		want := slices.Clone(grad)

		r, err := miner.MineBank(cfg, dist.Euclidean, batch, bank, grad)
		if !errors.Is(err, c.want) || r != nil {
			t.Errorf("%s: result %v, error %v; want %v", c.what, r, err, c.want)
		}
		after := bank.Refs()
		if bank.Len() != 2*n || !sameBits(after.Rows, before.Rows) ||
			!slices.Equal(after.Labels, before.Labels) || !slices.Equal(after.IDs, before.IDs) {
			t.Errorf("%s: the bank changed (%d rows)", c.what, bank.Len())
		}
		if !sameBits(grad, want) {
			t.Errorf("%s: grad changed", c.what)
		}
	}
}

// TestMineBankZeroNormUnderCosine: a bank takes a row of norm 0, which
// the Euclidean metrics can mine but cosine must refuse.
func TestMineBankZeroNormUnderCosine(t *testing.T) {
	const dim = 3
	bank, err := mining.NewBank(8, dim, 2)
	if err != nil {
		t.Fatal(err)
	}
	rows := []float32{1, 0, 0, 0, 0, 0, 0, 1, 1}
	if err := bank.Add(rows, []int32{0, 1, 2}, []int64{1, 2, 3}); err != nil {
		t.Fatalf("a row of norm 0: %v", err)
	}
	batch := mining.Batch{Rows: []float32{1, 1, 0, 0, 1, 0}, Dim: dim, Labels: []int32{0, 1},
		IDs: []int64{4, 5}}
	grad := sentinelGrad(len(batch.Rows))
	want := slices.Clone(grad)

	for _, s := range strategies {
		var miner mining.Miner
		cfg := mining.Config{Strategy: s, Margin: 0.5}
		r, err := miner.MineBank(cfg, dist.Cosine, batch, bank, grad)
		if !errors.Is(err, dist.ErrZeroNorm) || r != nil {
			t.Errorf("%v: MineBank under cosine: result %v, error %v; want %v", s, r, err,
				dist.ErrZeroNorm)
		}
		if bank.Len() != 3 || !sameBits(grad, want) {
			t.Errorf("%v: MineBank under cosine: %d rows in the bank, grad %v", s, bank.Len(),
				grad)
		}
		cfg.WithBatch = true
		r, err = miner.MineRefs(cfg, dist.Cosine, batch, bank.Refs(), grad)
		if !errors.Is(err, dist.ErrZeroNorm) || r != nil {
			t.Errorf("%v: MineRefs under cosine: result %v, error %v; want %v", s, r, err,
				dist.ErrZeroNorm)
		}
	}

	var miner mining.Miner
	for _, metric := range []dist.Metric{dist.SquaredEuclidean, dist.Euclidean} {
		cfg := mining.Config{Strategy: mining.BatchHard, Margin: 0.5}
		before := bank.Len()
		if _, err := miner.MineBank(cfg, metric, batch, bank, nil); err != nil {
			t.Errorf("MineBank under %v: %v", metric, err)
		}
		if bank.Len() != before+2 {
			t.Errorf("MineBank under %v: %d rows in the bank, want %d", metric, bank.Len(),
				before+2)
		}
	}
}

// TestMineRefsUnitRefs checks that Config.UnitRefs refuses references
// whose norm is not 1, from a caller or a bank, and that it changes
// nothing for references that are normalised.
func TestMineRefsUnitRefs(t *testing.T) {
	const m, dim = 20, 5
	rng := rand.New(rand.NewPCG(39, 40))
	c := newRefsCase(t, rng, dist.Cosine, 3, 3, m, dim, true)
	batch, refs := c.Batch, cloneRefs(c.Refs)
	var miner mining.Miner
	unit := mining.Config{Strategy: mining.SemiHard, Margin: 0.2, UnitRefs: true}

	grad := sentinelGrad(len(batch.Rows))
	want := slices.Clone(grad)
	if _, err := miner.MineRefs(unit, dist.Cosine, batch, refs, grad); !errors.Is(err,
		mining.ErrNotUnit) {
		t.Errorf("references as drawn: error %v, want %v", err, mining.ErrNotUnit)
	}
	if !sameBits(grad, want) {
		t.Error("references as drawn: grad changed")
	}

	normalise(refs.Rows, dim)
	for _, metric := range metrics {
		var miner mining.Miner
		for _, s := range strategies {
			cfg := unit
			cfg.Strategy = s
			grad := sentinelGrad(len(batch.Rows))
			r, err := miner.MineRefs(cfg, metric, batch, refs, grad)
			if err != nil {
				t.Fatalf("%v/%v: normalised references: %v", metric, s, err)
			}
			got := keep(r, grad)
			cfg.UnitRefs = false
			grad = sentinelGrad(len(batch.Rows))
			r, err = miner.MineRefs(cfg, metric, batch, refs, grad)
			if err != nil {
				t.Fatal(err)
			}
			if d := bitDiff(got, keep(r, grad)); d != "" {
				t.Errorf("%v/%v: UnitRefs changed the result: %s", metric, s, d)
			}
		}
	}

	// One reference of norm 1.001, or 0.999, is one too many.
	for _, scale := range []float32{1.001, 0.999} {
		off := slices.Clone(refs.Rows)
		for k := 7 * dim; k < 8*dim; k++ {
			off[k] *= scale
		}
		offRefs := mining.Refs{Rows: off, Labels: refs.Labels, IDs: refs.IDs}
		if _, err := miner.MineRefs(unit, dist.Cosine, batch, offRefs, nil); !errors.Is(err,
			mining.ErrNotUnit) {
			t.Errorf("a reference of norm %v: error %v, want %v", scale, err, mining.ErrNotUnit)
		}
	}

	// A bank's rows are references too.
	bank, err := mining.NewBank(32, dim, 1)
	if err != nil {
		t.Fatal(err)
	}
	rows := slices.Clone(batch.Rows)
	normalise(rows, dim)
	if err := bank.Add(rows, batch.Labels, batch.IDs); err != nil {
		t.Fatal(err)
	}
	if _, err := miner.MineBank(unit, dist.Cosine, batch, bank, nil); err != nil {
		t.Errorf("a bank of unit rows: %v", err)
	}
	if bank.Len() != 2*len(batch.Labels) {
		t.Fatalf("the bank holds %d rows", bank.Len())
	}
	// It now holds the batch as drawn, not normalised.
	if _, err := miner.MineBank(unit, dist.Cosine, batch, bank, nil); !errors.Is(err,
		mining.ErrNotUnit) {
		t.Errorf("a bank of rows not of norm 1: error %v, want %v", err, mining.ErrNotUnit)
	}
	if bank.Len() != 2*len(batch.Labels) {
		t.Errorf("refused, the bank changed to %d rows", bank.Len())
	}
}

// normalise scales each row of rows to norm 1, computed in float64.
func normalise(rows []float32, dim int) {
	for i := 0; i < len(rows); i += dim {
		var sum float64
		for _, v := range rows[i : i+dim] {
			sum += float64(v) * float64(v)
		}
		norm := math.Sqrt(sum)
		for k := i; k < i+dim; k++ {
			rows[k] = float32(float64(rows[k]) / norm)
		}
	}
}
