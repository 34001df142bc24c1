package mining

import (
	"fmt"
	"math"
	"slices"

	"github.com/tripletmine/triplet/asm"
	"github.com/tripletmine/triplet/dist"
	"github.com/tripletmine/triplet/internal/parallel"
	"github.com/tripletmine/triplet/internal/scratch"
)

// Triplet is a mined (anchor, positive, negative) triplet of row indices.
type Triplet struct {
	Anchor, Positive, Negative int32
}

// Stats describes a mined batch.
type Stats struct {
	// Anchors counts the valid anchors: rows with a positive and a negative.
	Anchors int

	// Pairs counts the anchor-positive pairs of the valid anchors.
	Pairs int

	// Triplets counts the valid triplets (a, p, n).
	Triplets int64

	// Selected counts the triplets the strategy uses: every valid triplet
	// for batch-all, one per valid anchor for batch-hard, one per pair for
	// semi-hard.
	Selected int64

	// Active counts the selected triplets with a positive loss (with a
	// soft margin, all of them: softplus is positive everywhere), and
	// ActiveFraction is Active / Selected (0 when nothing is selected).
	// Since Selected counts different things per strategy, so does the
	// fraction: of all valid triplets for batch-all, of the hardest one per
	// anchor for batch-hard.
	Active         int64
	ActiveFraction float64

	// MeanPositive and MeanNegative are the mean anchor-positive and
	// anchor-negative distances over the selected triplets.
	MeanPositive, MeanNegative float64
}

// Result is what Mine returns. Its slices belong to the Miner and are
// overwritten by its next call. From MineRefs and MineBank, its Triplets
// number the candidates as the batch rows followed by the references, and
// Weights and Entries are nil: those calls carry the gradient to the batch
// themselves.
type Result struct {
	// Loss is the reduced triplet loss.
	Loss float64

	Stats Stats

	// Triplets lists the selected triplets: one per valid anchor
	// (batch-hard), one per pair (semi-hard), or, with Config.CollectAll,
	// the triplets with a positive loss (batch-all), in anchor order.
	Triplets []Triplet

	// Weights is dL/dD as a dense n×n matrix (batch-all), for
	// dist.Calculator.PairwiseGrad; nil for the other strategies.
	Weights []float32

	// Entries is dL/dD as a list of its nonzero entries (batch-hard and
	// semi-hard), for dist.Calculator.PairwiseGradSparse.
	Entries []dist.Entry
}

// A Miner mines batches, keeping scratch space between calls so that a
// call with the shape of an earlier one allocates nothing. A Miner must not
// be used by two goroutines at once; its zero value is ready.
type Miner struct {
	group  parallel.Group
	job    anchorJob
	result Result

	order    []int32 // rows sorted by label, then index
	classOf  []int32 // for each row, where its class starts in order
	classEnd []int32 // for each row, where its class ends in order
	offsets  []int32 // for each anchor, its first pair
	pairs    []pair
	anchors  []anchor
	weights  []float32 // batch-all's dense dL/dD
	probes   []float32 // a row of zeros, then a row of ones
	rowSums  []float32 // each anchor's row times the zeros, then times the ones
	farthest []int32   // semi-hard: each anchor's farthest negative, or -2 if not yet known

	refs refState // MineRefs's state
}

// pair holds the results for one anchor-positive pair.
type pair struct {
	positive, negative int32
	threshold          float32 // d(a,p) + margin
	dap, dan           float32
	sum, slope         float64 // batch-all: hinge sum and summed slopes; else one triplet's
	loss               float64
	active             int64
}

// anchor holds the results for one anchor.
type anchor struct {
	positive, negative int32
	dap, dan           float32
	loss, slope        float64
	negativeSum        float64 // batch-all: the sum of its negatives' distances
	notFinite          bool    // the row holds NaN or ±Inf
}

// Mine mines the n×n matrix dists of distances between the rows of a batch
// (row a holds anchor a's distances, as dist.Calculator.Pairwise returns
// them) with the rows' labels, and returns the loss, dL/dD, the selected
// triplets and statistics. Batches without a valid triplet are not errors:
// their loss is 0 and dL/dD is 0.
//
// Mine returns an error for a distance that is NaN or ±Inf (naming it), for
// a configuration it does not know or a negative or non-finite margin, and
// when the lengths of dists and labels do not fit together.
func (m *Miner) Mine(cfg Config, dists []float32, labels []int32) (*Result, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	n := len(labels)
	if len(dists) != n*n {
		return nil, fmt.Errorf("%w: %d distances for %d labels, want %d",
			ErrShape, len(dists), n, n*n)
	}

	m.groupClasses(labels)
	stats := m.countValid(n)
	m.probeRows(dists, n)
	m.job = anchorJob{m: m, cfg: cfg, dists: dists, labels: labels, n: n}
	m.job.phase = selectPhase
	m.group.Do(&m.job, (n+anchorBlock-1)/anchorBlock, cfg.Workers)

	for a := range n {
		if m.anchors[a].notFinite {
			m.job = anchorJob{}
			return nil, notFinite(dists[a*n:(a+1)*n], a)
		}
	}

	r := &m.result
	*r = Result{Triplets: r.Triplets[:0], Entries: r.Entries[:0], Stats: stats}
	m.reduce(cfg, n, r)

	if cfg.Strategy == BatchAll {
		m.weights = scratch.Grow(m.weights, n*n)
		r.Weights = m.weights
		m.job.phase = weightPhase
		m.group.Do(&m.job, (n+anchorBlock-1)/anchorBlock, cfg.Workers)
		if cfg.CollectAll {
			m.collectAll(cfg, dists, labels, n)
		}
	} else {
		m.listSelections(cfg, n)
	}
	m.job = anchorJob{}
	return r, nil
}

// groupClasses sorts the rows by label, so that each row's class is a run
// of m.order, and records each row's run.
func (m *Miner) groupClasses(labels []int32) {
	n := len(labels)
	m.order = scratch.Grow(m.order, n)
	m.classOf = scratch.Grow(m.classOf, n)
	m.classEnd = scratch.Grow(m.classEnd, n)
	for i := range m.order {
		m.order[i] = int32(i)
	}
	slices.SortFunc(m.order, func(a, b int32) int {
		if labels[a] != labels[b] {
			if labels[a] < labels[b] {
				return -1
			}
			return 1
		}
		return int(a - b)
	})
	for start := 0; start < n; {
		end := start + 1
		for end < n && labels[m.order[end]] == labels[m.order[start]] {
			end++
		}
		for _, row := range m.order[start:end] {
			m.classOf[row], m.classEnd[row] = int32(start), int32(end)
		}
		start = end
	}
}

// countValid counts the valid anchors, pairs and triplets from the class
// sizes alone, and lays out one pair slot per anchor-positive pair.
func (m *Miner) countValid(n int) Stats {
	var s Stats
	m.offsets = scratch.Grow(m.offsets, n+1)
	for a := range n {
		m.offsets[a] = int32(s.Pairs)
		size := int(m.classEnd[a] - m.classOf[a])
		positives, negatives := size-1, n-size
		if positives > 0 && negatives > 0 {
			s.Anchors++
			s.Pairs += positives
			s.Triplets += int64(positives) * int64(negatives)
		}
	}
	m.offsets[n] = int32(s.Pairs)
	if cap(m.pairs) < s.Pairs {
		m.pairs = make([]pair, s.Pairs)
	}
	m.pairs = m.pairs[:s.Pairs]
	if cap(m.anchors) < n {
		m.anchors = make([]anchor, n)
	}
	m.anchors = m.anchors[:n]
	m.probes = scratch.Grow(m.probes, 2*n)
	clear(m.probes[:n])
	for i := n; i < 2*n; i++ {
		m.probes[i] = 1
	}
	m.farthest = scratch.Grow(m.farthest, n)
	return s
}

// probeRows sets, for every anchor a, rowSums[a] to its row times zeros,
// which is 0 unless the row holds NaN or ±Inf (0·∞ is NaN), and
// rowSums[n+a] to the sum of its row; one kernel call covers each.
func (m *Miner) probeRows(dists []float32, n int) {
	m.rowSums = scratch.Grow(m.rowSums, 2*n)
	if n > 0 {
		asm.RowDots(m.rowSums[:n], dists, n, m.probes[:n], 0, n)
		asm.RowDots(m.rowSums[n:], dists, n, m.probes[n:], 0, n)
	}
}

// notFinite names the first distance of anchor a's row that is not finite.
func notFinite(row []float32, a int) error {
	for k, v := range row {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("%w: the distance from row %d to row %d is %v", ErrNotFinite, a, k, v)
		}
	}
	return fmt.Errorf("%w: row %d", ErrNotFinite, a)
}

// reduce adds up the per-anchor results in anchor order, so that the sums
// do not depend on the worker count, and fills in the statistics and the
// loss.
func (m *Miner) reduce(cfg Config, n int, r *Result) {
	s := &r.Stats
	var total, sumPositive, sumNegative float64
	switch cfg.Strategy {
	case BatchAll:
		s.Selected = s.Triplets
		for a := range n {
			if m.offsets[a] == m.offsets[a+1] {
				continue
			}
			negatives := int64(n) - int64(m.classEnd[a]-m.classOf[a])
			positives := int64(m.offsets[a+1] - m.offsets[a])
			for _, p := range m.pairs[m.offsets[a]:m.offsets[a+1]] {
				total += p.sum
				s.Active += p.active
				sumPositive += float64(p.dap) * float64(negatives)
			}
			sumNegative += m.anchors[a].negativeSum * float64(positives)
		}
	case BatchHard:
		s.Selected = int64(s.Anchors)
		for a := range n {
			an := &m.anchors[a]
			if an.negative < 0 || an.positive < 0 {
				continue
			}
			total += an.loss
			if cfg.active(an.loss) {
				s.Active++
			}
			sumPositive += float64(an.dap)
			sumNegative += float64(an.dan)
		}
	case SemiHard:
		s.Selected = int64(s.Pairs)
		for _, p := range m.pairs {
			total += p.loss
			if cfg.active(p.loss) {
				s.Active++
			}
			sumPositive += float64(p.dap)
			sumNegative += float64(p.dan)
		}
	}
	if s.Selected > 0 {
		s.ActiveFraction = float64(s.Active) / float64(s.Selected)
		s.MeanPositive = sumPositive / float64(s.Selected)
		s.MeanNegative = sumNegative / float64(s.Selected)
	}

	m.job.scale = 0
	if d := divisor(cfg, r.Stats); d > 0 {
		m.job.scale = 1 / d
		r.Loss = total / d
	}
}

// divisor returns what the reduction divides the summed loss by; 0 means
// the loss and its gradient are 0.
func divisor(cfg Config, s Stats) float64 {
	switch {
	case cfg.Reduction == SumReduction:
		return 1
	case cfg.Reduction == DefaultReduction && cfg.Strategy == BatchAll:
		return float64(s.Active)
	}
	return float64(s.Selected)
}

// listSelections lists the selected triplets and the nonzero entries of
// dL/dD for batch-hard and semi-hard, in anchor order.
func (m *Miner) listSelections(cfg Config, n int) {
	r := &m.result
	add := func(a, p, ng int32, slope float64) {
		r.Triplets = append(r.Triplets, Triplet{a, p, ng})
		if w := float32(slope * m.job.scale); w != 0 {
			r.Entries = append(r.Entries, dist.Entry{Row: a, Col: p, Weight: w},
				dist.Entry{Row: a, Col: ng, Weight: -w})
		}
	}
	for a := range n {
		if cfg.Strategy == BatchHard {
			an := &m.anchors[a]
			if an.positive >= 0 && an.negative >= 0 {
				add(int32(a), an.positive, an.negative, an.slope)
			}
			continue
		}
		for _, p := range m.pairs[m.offsets[a]:m.offsets[a+1]] {
			add(int32(a), p.positive, p.negative, p.slope)
		}
	}
}

// collectAll lists batch-all's triplets with a positive loss.
func (m *Miner) collectAll(cfg Config, dists []float32, labels []int32, n int) {
	r := &m.result
	for a := range n {
		row := dists[a*n : (a+1)*n]
		for _, p := range m.pairs[m.offsets[a]:m.offsets[a+1]] {
			for k, d := range row {
				if labels[k] == labels[a] {
					continue
				}
				z := float64(p.dap) - float64(d) + float64(cfg.Margin)
				if loss, _ := cfg.hinge(z); cfg.active(loss) {
					r.Triplets = append(r.Triplets, Triplet{int32(a), p.positive, int32(k)})
				}
			}
		}
	}
}
