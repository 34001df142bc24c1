package mining

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/tripletmine/triplet/dist"
	"github.com/tripletmine/triplet/internal/scratch"
)

// Refs is a set of reference rows that MineRefs mines a batch against: a
// gallery, or the cross-batch memory that a Bank keeps. References are
// constants: the gradient flows to the batch only.
type Refs struct {
	// Rows holds the references, dim values each, row-major.
	Rows []float32

	// Labels holds each reference's class label.
	Labels []int32

	// IDs, if not nil, holds each reference's sample id. A reference with
	// an anchor's id is that anchor's own sample, and is never one of its
	// candidates, positive or negative. With nil IDs no reference is. Ids
	// are meant to name samples: the work and memory of the check grow
	// with the number of (anchor, reference) pairs that share an id.
	IDs []int64

	normsSq []float32 // the rows' squared norms, checked, when a Bank made Refs
}

// Batch is the batch that MineRefs mines: its rows are the anchors.
type Batch struct {
	// Rows holds the embeddings, Dim values each, row-major.
	Rows []float32
	Dim  int

	// Labels holds each row's class label.
	Labels []int32

	// IDs, if not nil, holds each row's sample id (see Refs.IDs).
	IDs []int64
}

// The errors that only MineRefs and MineBank return.
var (
	ErrUnsupported = errors.New("mining: unsupported against references")
	ErrNotUnit     = errors.New("mining: reference not of unit norm")
)

// unitTolerance is how far from 1 the squared norm of a reference may be
// under Config.UnitRefs: a few float32 roundings of a normalised row.
const unitTolerance = 1e-4

// MineRefs mines the rows of batch, as anchors, against the references,
// and with cfg.WithBatch against the batch as well; it returns the loss,
// the selections and statistics, and adds the gradient of the loss with
// respect to the batch rows to grad (len(batch.Rows) values) unless grad
// is nil. The distances are those of metric.
//
// The candidates of an anchor are numbered as the batch rows followed by
// the references: index i < n is batch row i (only with WithBatch) and
// index n + j is reference j, and Result.Triplets uses these numbers, ties
// going to the lowest. The strategies, reductions and statistics are those
// of Mine over the matrix of anchors against candidates, with one rule
// more: a reference with an anchor's id is not its candidate.
//
// MineRefs never holds the n×m distance matrix: it computes it in blocks
// of a few hundred references, reduces each block as it comes and keeps
// O(n·dim) running state per slice of the references (at most 16 slices),
// plus the anchors' positives, found from the labels and computed first.
// Batch-all and semi-hard thus read the anchors' positives before they
// stream the negatives, and semi-hard makes a third pass for the anchors
// of any pair that has no negative farther than its positive. Results do
// not depend on cfg.Workers.
//
// Batch-all with a soft margin works element by element (a softplus per
// triplet) and is much slower than with the hinge; CollectAll is not
// supported (the triplets can number n·K·m) and returns ErrUnsupported.
//
// MineRefs returns an error, and leaves grad alone, for a bad cfg, shapes
// that do not fit (dim, labels, ids, grad), rows that Norms refuses (not
// finite, too large, or of norm 0 under cosine), and a gradient that is
// not finite.
func (m *Miner) MineRefs(cfg Config, metric dist.Metric, batch Batch, refs Refs,
	grad []float32) (*Result, error) {

	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if cfg.CollectAll {
		return nil, fmt.Errorf("%w: CollectAll", ErrUnsupported)
	}
	s := &m.refs
	if err := s.start(cfg, metric, batch, refs, grad); err != nil {
		return nil, err
	}
	s.findPositives()
	stats := s.count()
	s.stream(&m.group)
	r := &m.result
	*r = Result{Triplets: r.Triplets[:0], Entries: r.Entries[:0], Stats: stats}
	if cfg.Strategy == SemiHard {
		s.fallBack(&m.group)
	}
	s.reduce(r)
	if grad != nil {
		if err := s.backward(grad); err != nil {
			return nil, err
		}
	}
	r.Entries = nil
	s.release()
	return r, nil
}

// MineBank mines batch against the rows of bank and the batch itself (as
// MineRefs with WithBatch), or, until the bank is Ready, against the batch
// alone; then it adds the batch to the bank. Candidate index n + j is the
// bank's slot j. It returns the errors of MineRefs, and also reports a
// bank of another dim, or ids where the bank holds none (or the other way
// round), before it changes anything.
func (m *Miner) MineBank(cfg Config, metric dist.Metric, batch Batch, bank *Bank,
	grad []float32) (*Result, error) {

	if bank.dim != batch.Dim {
		return nil, fmt.Errorf("%w: the bank holds rows of dim %d, the batch of dim %d",
			ErrShape, bank.dim, batch.Dim)
	}
	if err := bank.checkIDs(len(batch.Labels), batch.IDs); err != nil {
		return nil, err
	}
	var refs Refs
	if bank.Ready() {
		refs = bank.Refs()
	}
	cfg.WithBatch = true
	r, err := m.MineRefs(cfg, metric, batch, refs, grad)
	if err != nil {
		return nil, err
	}
	return r, bank.Add(batch.Rows, batch.Labels, batch.IDs)
}

// refState is what MineRefs keeps between calls.
type refState struct {
	cfg    Config
	metric dist.Metric
	calc   dist.Calculator
	n, m   int
	dim    int
	batch  Batch
	refs   Refs

	qNorms, rNorms []float32 // squared norms of the batch and reference rows
	qKernel        []float32 // the batch rows as the distance kernels see them
	qBuffer        []float32 // scratch for qKernel (cosine)
	rowBuffer      []float32 // scratch for one reference row as the kernels see it

	labelTable, idTable table
	classRefs           []int32 // the references of each anchor's label, by class
	classStart          []int32 // per lowest anchor of a label, where its references start
	batchClass          []int32 // per anchor, the size of its class in the batch

	posStart  []int32   // per anchor, where its positives start in pos
	pos       []refPair // the anchor-positive pairs, by anchor, then candidate
	byThresh  []int32   // semi-hard: per anchor, its pairs by threshold, then index
	exclStart []int32   // per anchor, where its excluded references start in excl
	excl      []int32   // references with an anchor's id but another label
	sameSum   []float64 // batch-all: per anchor, Σ distance to rows of its label
	exclSum   []float64 // batch-all: per anchor, Σ distance to its excluded rows
	negatives []int64   // per anchor, its number of negatives

	job     blockJob
	workers []blockWorker
	chunks  []chunk
	need    []int32 // semi-hard: the anchors with a pair without a farther negative

	// Per slice of the candidates, the running state, merged in order.
	nearest  []refBest // batch-hard: per anchor, its nearest negative
	above    []refBest // semi-hard: per pair, its nearest negative above it
	farthest []refBest // semi-hard fallback: per needy anchor, its farthest negative
	sums     []refSum  // batch-all: per pair, its hinge sum and count
	rowSums  []float64 // batch-all: per anchor, the sum of its distances
	acc      []float32 // batch-all: per anchor, Σ w·(u - μ) and Σ w, dim+1 values
	direct   []float32 // batch-all: per anchor, Σ w·(u_a - u) of near pairs
	mean     []float32 // the mean of the anchors' kernel rows
	centred  []float32 // the anchors' kernel rows minus the mean
	spread   float32   // the largest norm of a centred anchor row
	batchD   []float32 // with WithBatch, the batch's own n×n distances
	batchW   []float32 // and batch-all's dL/dD on them
	update   []float32 // the gradient on the kernel rows, then on the rows
	needRows []float32 // the kernel rows of the anchors in need
	scale    float64   // 1 / the reduction's divisor, or 0
	gradIn   []float32 // the gradient before it is checked and added

	entries, batchEntries, refEntries []dist.Entry // dL/dD's nonzero entries
	refCols                           []int32      // the references that refEntries name
	gathered                          []float32    // their rows
	cursor                            []int32      // a running position per anchor or class
}

// refPair is an anchor-positive pair: the positive's candidate index, the
// distance and the threshold d(a,p) + margin.
type refPair struct {
	col            int32
	dap, threshold float32
}

// refBest is a running selection: a candidate index (-1 for none) and its
// distance.
type refBest struct {
	col  int32
	dist float32
}

// refSum is batch-all's running sums for one pair.
type refSum struct {
	loss, slope float64
	active      int64
}

// chunk is a slice of the candidates: the batch (cols [0, n)) or
// references [start, end).
type chunk struct {
	batch      bool
	start, end int
}

// maxChunks bounds the number of slices of the references, and so the
// running state, whatever the number of references.
const maxChunks = 16

// start checks the input and prepares the kernel rows and the tables.
func (s *refState) start(cfg Config, metric dist.Metric, batch Batch, refs Refs,
	grad []float32) error {

	dim := batch.Dim
	if dim < 1 {
		return fmt.Errorf("%w: dim %d < 1", ErrShape, dim)
	}
	s.calc.Metric, s.calc.Workers = metric, cfg.Workers
	var err error
	if s.qNorms, err = s.calc.Norms(s.qNorms, batch.Rows, dim, "embedding"); err != nil {
		return err
	}
	n := len(batch.Rows) / dim
	if refs.normsSq == nil {
		if s.rNorms, err = s.calc.Norms(s.rNorms, refs.Rows, dim, "reference"); err != nil {
			return err
		}
	} else {
		if err := checkBankNorms(metric, refs.normsSq); err != nil {
			return err
		}
		s.rNorms = refs.normsSq
	}
	if cfg.UnitRefs {
		for j, v := range s.rNorms {
			if math.Abs(float64(v)-1) > unitTolerance {
				return fmt.Errorf("%w: reference row %d has norm %.6g", ErrNotUnit, j,
					math.Sqrt(float64(v)))
			}
		}
	}
	m := len(refs.Rows) / dim
	switch {
	case len(batch.Labels) != n:
		return fmt.Errorf("%w: %d labels for %d rows", ErrShape, len(batch.Labels), n)
	case batch.IDs != nil && len(batch.IDs) != n:
		return fmt.Errorf("%w: %d ids for %d rows", ErrShape, len(batch.IDs), n)
	case len(refs.Labels) != m:
		return fmt.Errorf("%w: %d labels for %d references", ErrShape, len(refs.Labels), m)
	case refs.IDs != nil && len(refs.IDs) != m:
		return fmt.Errorf("%w: %d ids for %d references", ErrShape, len(refs.IDs), m)
	case grad != nil && len(grad) != len(batch.Rows):
		return fmt.Errorf("%w: grad has %d values, want %d", ErrShape, len(grad), len(batch.Rows))
	case int64(n)+int64(m) > math.MaxInt32:
		return fmt.Errorf("%w: %d rows and %d references do not fit int32 indices",
			ErrShape, n, m)
	}

	s.cfg, s.metric, s.n, s.m, s.dim, s.batch, s.refs = cfg, metric, n, m, dim, batch, refs
	s.qKernel, s.qBuffer = metric.KernelRows(s.qBuffer, batch.Rows, s.qNorms, dim)
	s.labelTable.build(n, func(i int) int64 { return int64(batch.Labels[i]) })
	if batch.IDs != nil && refs.IDs != nil {
		s.idTable.build(n, func(i int) int64 { return batch.IDs[i] })
	}
	return nil
}

// checkBankNorms checks the squared norms a Bank recorded for its rows
// against the metric: only cosine refuses a row, one of norm 0.
func checkBankNorms(metric dist.Metric, normsSq []float32) error {
	if metric < dist.SquaredEuclidean || metric > dist.Cosine {
		return fmt.Errorf("%w %v", dist.ErrMetric, metric)
	}
	if metric != dist.Cosine {
		return nil
	}
	for j, v := range normsSq {
		if v == 0 {
			return fmt.Errorf("%w: reference row %d has norm 0 under the cosine metric",
				dist.ErrZeroNorm, j)
		}
	}
	return nil
}

// sameID reports whether reference j is anchor a's own sample.
func (s *refState) sameID(a, j int) bool {
	return s.batch.IDs != nil && s.refs.IDs != nil && s.batch.IDs[a] == s.refs.IDs[j]
}

// findPositives lists each anchor's positives with their distances, in
// candidate order, and its references with its id but another label; the
// references of a label are found with one pass over the reference labels.
func (s *refState) findPositives() {
	n := s.n
	labels, refLabels := s.batch.Labels, s.refs.Labels

	// Group the references by the lowest anchor of their label.
	s.classStart = scratch.Grow(s.classStart, n+1)
	clear(s.classStart)
	for _, l := range refLabels {
		if h := s.labelTable.first(int64(l)); h >= 0 {
			s.classStart[h+1]++
		}
	}
	for h := range n {
		s.classStart[h+1] += s.classStart[h]
	}
	s.classRefs = scratch.Grow(s.classRefs, int(s.classStart[n]))
	s.cursor = scratch.Grow(s.cursor, n)
	copy(s.cursor, s.classStart[:n])
	for j, l := range refLabels {
		if h := s.labelTable.first(int64(l)); h >= 0 {
			s.classRefs[s.cursor[h]] = int32(j)
			s.cursor[h]++
		}
	}
	s.batchClass = scratch.Grow(s.batchClass, n)
	for a := range n {
		size := 0
		for b := s.labelTable.first(int64(labels[a])); b >= 0; b = s.labelTable.next[b] {
			size++
		}
		s.batchClass[a] = int32(size)
	}

	s.findExcluded()

	s.posStart = scratch.Grow(s.posStart, n+1)
	s.pos = s.pos[:0]
	s.sameSum = scratch.Grow(s.sameSum, n)
	margin := s.cfg.Margin
	for a := range n {
		s.posStart[a] = int32(len(s.pos))
		s.sameSum[a] = 0
		head := s.labelTable.first(int64(labels[a]))
		if s.cfg.WithBatch {
			for b := head; b >= 0; b = s.labelTable.next[b] {
				if int(b) != a {
					d := s.distance(a, int(b))
					s.pos = append(s.pos, refPair{col: b, dap: d, threshold: d + margin})
					s.sameSum[a] += float64(d)
				}
			}
		}
		for _, j := range s.classRefs[s.classStart[head]:s.classStart[head+1]] {
			if s.sameID(a, int(j)) {
				// Not a candidate; only batch-all's statistics need its
				// distance, to take it out of the anchor's row sums.
				if s.cfg.Strategy == BatchAll {
					s.sameSum[a] += float64(s.distance(a, n+int(j)))
				}
				continue
			}
			d := s.distance(a, n+int(j))
			s.sameSum[a] += float64(d)
			s.pos = append(s.pos, refPair{col: int32(n) + j, dap: d, threshold: d + margin})
		}
	}
	s.posStart[n] = int32(len(s.pos))

	if s.cfg.Strategy == SemiHard {
		s.byThresh = scratch.Grow(s.byThresh, len(s.pos))
		for a := range n {
			k0, k1 := s.posStart[a], s.posStart[a+1]
			order := s.byThresh[k0:k1]
			for k := range order {
				order[k] = k0 + int32(k)
			}
			slices.SortStableFunc(order, func(x, y int32) int {
				return compareFloat32(s.pos[x].dap, s.pos[y].dap)
			})
		}
	}
}

// findExcluded lists, per anchor in reference order, the references with
// the anchor's id and another label, which are not its negatives, and the
// sum of their distances.
func (s *refState) findExcluded() {
	n := s.n
	s.exclStart = scratch.Grow(s.exclStart, n+1)
	clear(s.exclStart)
	s.exclSum = scratch.Grow(s.exclSum, n)
	clear(s.exclSum)
	s.excl = s.excl[:0]
	if s.batch.IDs == nil || s.refs.IDs == nil {
		return
	}
	labels, refLabels := s.batch.Labels, s.refs.Labels
	for j, id := range s.refs.IDs {
		for a := s.idTable.first(id); a >= 0; a = s.idTable.next[a] {
			if labels[a] != refLabels[j] {
				s.exclStart[a+1]++
			}
		}
	}
	for a := range n {
		s.exclStart[a+1] += s.exclStart[a]
	}
	s.excl = scratch.Grow(s.excl, int(s.exclStart[n]))
	s.cursor = scratch.Grow(s.cursor, n)
	copy(s.cursor, s.exclStart[:n])
	for j, id := range s.refs.IDs {
		for a := s.idTable.first(id); a >= 0; a = s.idTable.next[a] {
			if labels[a] != refLabels[j] {
				s.excl[s.cursor[a]] = int32(j)
				s.cursor[a]++
				if s.cfg.Strategy == BatchAll {
					s.exclSum[a] += float64(s.distance(int(a), n+j))
				}
			}
		}
	}
}

// distance computes the distance from anchor a to candidate col with the
// same kernel as the blocks, so that both give the same bits.
func (s *refState) distance(a, col int) float32 {
	dim := s.dim
	var row []float32
	if col < s.n {
		row = s.qKernel[col*dim : (col+1)*dim]
	} else {
		j := col - s.n
		row, s.rowBuffer = s.metric.KernelRows(s.rowBuffer, s.refs.Rows[j*dim:(j+1)*dim],
			s.rNorms[j:j+1], dim)
	}
	var d [1]float32
	s.metric.Block(d[:], 1, s.qKernel[a*dim:(a+1)*dim], row, dim)
	return d[0]
}

// count counts the valid anchors, pairs and triplets, and each anchor's
// negatives.
func (s *refState) count() Stats {
	var st Stats
	candidates := int64(s.m)
	if s.cfg.WithBatch {
		candidates += int64(s.n)
	}
	s.negatives = scratch.Grow(s.negatives, s.n)
	for a := range s.n {
		head := s.labelTable.first(int64(s.batch.Labels[a]))
		same := int64(s.classStart[head+1] - s.classStart[head])
		if s.cfg.WithBatch {
			same += int64(s.batchClass[a])
		}
		neg := candidates - same - int64(s.exclStart[a+1]-s.exclStart[a])
		positives := int64(s.posStart[a+1] - s.posStart[a])
		s.negatives[a] = neg
		if positives > 0 && neg > 0 {
			st.Anchors++
			st.Pairs += int(positives)
			st.Triplets += positives * neg
		}
	}
	return st
}

// valid reports whether anchor a has a positive and a negative.
func (s *refState) valid(a int) bool {
	return s.posStart[a+1] > s.posStart[a] && s.negatives[a] > 0
}

// pairs returns anchor a's pairs.
func (s *refState) pairs(a int) []refPair {
	return s.pos[s.posStart[a]:s.posStart[a+1]]
}

// release drops the references to the caller's slices.
func (s *refState) release() {
	s.batch, s.refs = Batch{}, Refs{}
	s.job = blockJob{}
}

func compareFloat32(x, y float32) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}
