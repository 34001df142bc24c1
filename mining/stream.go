package mining

import (
	"math"

	"github.com/tripletmine/triplet/asm"
	"github.com/tripletmine/triplet/dist"
	"github.com/tripletmine/triplet/internal/parallel"
	"github.com/tripletmine/triplet/internal/scratch"
)

// The shape of a block of the anchors-against-candidates matrix: a few
// hundred candidates, whose rows stay in cache while the anchors pass over
// them in groups. The candidates are split among the workers in chunks of
// whole multiples of chunkCols, so that a few hundred of them already keep
// two workers busy.
const (
	blockCols    = 512
	blockAnchors = 128
	chunkCols    = 256
)

// nearRatio sets which Euclidean pairs batch-all's dense gradient leaves
// to the exact-difference form, as package dist does for PairwiseGrad:
// those nearer than 2s/nearRatio, s being the spread of the rows.
const nearRatio = 64

// The passes over the candidates.
const (
	streamPass   = iota // select negatives, sum hinges, accumulate gradients
	farthestPass        // semi-hard: the farthest negative of some anchors
)

// blockJob runs one pass over the candidates, one part per chunk; each part
// writes only its own chunk's running state.
type blockJob struct {
	s       *refState
	pass    int
	anchors []int32   // the anchors of the pass; nil means all, in order
	rows    []float32 // their kernel rows
}

// blockWorker is one worker's scratch space.
type blockWorker struct {
	dists    []float32 // a block of distances, blockAnchors×blockCols
	weights  []float32 // batch-all: dL/dD on that block
	kernel   []float32 // scratch for the block's kernel rows (cosine)
	centred  []float32 // batch-all: those rows minus the anchors' mean
	columns  []float32 // batch-all: their transpose and a row of ones
	product  []float32 // batch-all: weights times columns
	ones     []float32 // a row of ones as long as the block
	sums     []float32 // the sums of the block's rows
	zeros    []float32
	noLabels []int32
	excluded []int32 // an anchor's excluded columns in the block
	diff     []float32
}

// anchor returns the anchor of row i of the pass.
func (j *blockJob) anchor(i int) int {
	if j.anchors == nil {
		return i
	}
	return int(j.anchors[i])
}

func (j *blockJob) Run(worker, part int) {
	s := j.s
	dim := s.dim
	c := s.chunks[part]
	w := &s.workers[worker]
	count := len(j.rows) / dim
	labels, base := s.refs.Labels, s.n
	if c.batch {
		labels, base = s.batch.Labels, 0
	}
	dense := j.pass == streamPass && s.cfg.Strategy == BatchAll

	for c0 := c.start; c0 < c.end; c0 += blockCols {
		c1 := min(c0+blockCols, c.end)
		cols := c1 - c0

		// The block's rows as the kernels see them.
		var kernel []float32
		if c.batch {
			kernel = s.qKernel[c0*dim : c1*dim]
		} else {
			kernel, w.kernel = s.metric.KernelRows(w.kernel, s.refs.Rows[c0*dim:c1*dim],
				s.rNorms[c0:c1], dim)
		}
		nearBelow := float32(0)
		if dense && !c.batch {
			nearBelow = w.prepareColumns(s, kernel, cols)
		}

		for a0 := 0; a0 < count; a0 += blockAnchors {
			a1 := min(a0+blockAnchors, count)
			block, ld := w.dists, cols
			if c.batch && j.pass == streamPass {
				block, ld = s.batchD[a0*s.n+c0:], s.n
			}
			s.metric.Block(block, ld, j.rows[a0*dim:a1*dim], kernel, dim)
			if dense && !c.batch {
				clear(w.weights[:(a1-a0)*cols])
			}
			active := false
			for i := a0; i < a1; i++ {
				a := j.anchor(i)
				row := block[(i-a0)*ld : (i-a0)*ld+cols]
				span := span{labels: labels[c0:c1], label: s.batch.Labels[a], self: -1,
					excluded: w.excludedIn(s, a, c, c0, c1)}
				if c.batch {
					span.self = selfIn(a, c0, c1)
				}
				if j.pass == farthestPass {
					s.farthestRow(part, i, row, span, base+c0)
					continue
				}
				if !s.valid(a) {
					continue
				}
				switch s.cfg.Strategy {
				case BatchHard:
					s.batchHardRow(part, a, row, span, base+c0)
				case SemiHard:
					s.semiHardRow(part, a, row, span, base+c0)
				default:
					var weights []float32
					if c.batch {
						weights = s.batchW[a*s.n+c0 : a*s.n+c1]
					} else {
						weights = w.weights[(i-a0)*cols : (i-a0+1)*cols]
					}
					if s.batchAllRow(part, a, row, span, weights) {
						active = true
					}
				}
			}
			if dense {
				w.addRowSums(s, part, block, ld, a0, a1, cols)
			}
			if dense && !c.batch && active {
				w.accumulate(s, part, a0, a1, cols, kernel, nearBelow)
			}
		}
	}
}

// selfIn returns anchor a's column in the batch columns [c0, c1), or -1.
func selfIn(a, c0, c1 int) int {
	if a >= c0 && a < c1 {
		return a - c0
	}
	return -1
}

// excludedIn returns the columns of references [c0, c1) that anchor a
// excludes, relative to c0.
func (w *blockWorker) excludedIn(s *refState, a int, c chunk, c0, c1 int) []int32 {
	if c.batch {
		return nil
	}
	all := s.excl[s.exclStart[a]:s.exclStart[a+1]]
	if len(all) == 0 {
		return nil
	}
	w.excluded = w.excluded[:0]
	for _, j := range all {
		if int(j) >= c0 && int(j) < c1 {
			w.excluded = append(w.excluded, j-int32(c0))
		}
	}
	return w.excluded
}

// batchHardRow keeps anchor a's nearest negative in a block row.
func (s *refState) batchHardRow(part, a int, row []float32, sp span, col0 int) {
	j, v := sp.nearest(row)
	b := &s.nearest[part*s.n+a]
	if j >= 0 && (b.col < 0 || v < b.dist) {
		*b = refBest{col: int32(col0 + j), dist: v}
	}
}

// semiHardRow keeps, for each pair of anchor a, the nearest negative in a
// block row strictly farther than its positive. The pairs go by distance:
// once the nearest negative v above one pair's distance is known, it is
// also the nearest above every pair whose distance lies below v, so one
// search serves them all and the next starts at the first pair at or
// above v.
func (s *refState) semiHardRow(part, a int, row []float32, sp span, col0 int) {
	order := s.byThresh[s.posStart[a]:s.posStart[a+1]]
	above := s.above[part*len(s.pos):]
	for i := 0; i < len(order); {
		j, v := sp.nearestAbove(row, s.pos[order[i]].dap)
		if j < 0 {
			return
		}
		for ; i < len(order) && s.pos[order[i]].dap < v; i++ {
			b := &above[order[i]]
			if b.col < 0 || v < b.dist {
				*b = refBest{col: int32(col0 + j), dist: v}
			}
		}
	}
}

// batchAllRow adds the hinge sums of anchor a's pairs over the negatives
// of a block row, and their gradient with respect to the row, before the
// reduction's scale, to weights. It reports whether a triplet is active.
func (s *refState) batchAllRow(part, a int, row []float32, sp span, weights []float32) bool {
	sums := s.sums[part*len(s.pos):]
	k0 := int(s.posStart[a])
	active := false
	for k, p := range s.pairs(a) {
		st := &sums[k0+k]
		if !s.cfg.SoftMargin {
			loss, count := sp.hingeSum(row, p.threshold)
			st.loss += loss
			st.active += int64(count)
			if count > 0 {
				sp.addHingeCounts(weights, row, p.threshold, -1)
				active = true
			}
			continue
		}
		margin := float64(s.cfg.Margin)
		sp.each(row, func(j int) {
			loss, slope := s.cfg.hinge(float64(p.dap) - float64(row[j]) + margin)
			st.loss += loss
			st.slope += slope
			st.active++
			weights[j] -= float32(slope)
		})
		active = true
	}
	return active
}

// farthestRow keeps the farthest negative in a block row of the pass's
// anchor i.
func (s *refState) farthestRow(part, i int, row []float32, sp span, col0 int) {
	b := &s.farthest[part*len(s.need)+i]
	sp.each(row, func(j int) {
		if b.col < 0 || row[j] > b.dist {
			*b = refBest{col: int32(col0 + j), dist: row[j]}
		}
	})
}

// addRowSums adds the sums of the block's rows (anchors [a0, a1), ld
// apart) to the chunk's row sums, which batch-all's statistics need.
func (w *blockWorker) addRowSums(s *refState, part int, block []float32, ld, a0, a1,
	cols int) {

	if len(w.ones) != cols {
		w.ones = fill(w.ones, cols, 1)
	}
	w.sums = scratch.Grow(w.sums, blockAnchors)
	asm.RowDots(w.sums[:a1-a0], block, ld, w.ones, 0, cols)
	for i := range a1 - a0 {
		s.rowSums[part*s.n+a0+i] += float64(w.sums[i])
	}
}

// prepareColumns sets up the product of batch-all's block weights with
// the block's reference rows: the rows minus the anchors' mean, and their
// transpose with a row of ones below. For the Euclidean metric it returns
// the distance below which a pair goes to the exact-difference form
// instead, as dist does: 1/32 of the spread of the rows.
func (w *blockWorker) prepareColumns(s *refState, kernel []float32, cols int) float32 {
	dim := s.dim
	w.centred = scratch.Grow(w.centred, cols*dim)
	copy(w.centred, kernel)
	spread := s.spread
	var normSq [1]float32
	for i := range cols {
		row := w.centred[i*dim : (i+1)*dim]
		asm.AddScaled(row, -1, s.mean)
		if s.metric == dist.Euclidean {
			asm.RowDots(normSq[:], row, dim, row, dim, dim)
			spread = max(spread, float32(math.Sqrt(float64(normSq[0]))))
		}
	}
	w.columns = scratch.Grow(w.columns, (dim+1)*cols)
	asm.Transpose(w.columns, cols, w.centred, dim, cols, dim)
	fill(w.columns[dim*cols:], cols, 1)
	if s.metric != dist.Euclidean {
		return 0
	}
	return 2 * spread / nearRatio
}

// accumulate adds the product of the block's weights (after the Euclidean
// chain rule) with the block's centred rows and ones to the chunk's sums
// for anchors [a0, a1); Euclidean pairs nearer than nearBelow go to the
// exact-difference sums instead.
func (w *blockWorker) accumulate(s *refState, part, a0, a1, cols int, kernel []float32,
	nearBelow float32) {

	dim := s.dim
	if s.metric == dist.Euclidean {
		if len(w.zeros) != cols {
			w.zeros = fill(w.zeros, cols, 0)
		}
		w.noLabels = scratch.Grow(w.noLabels, cols)
		clear(w.noLabels)
		for i := range a1 - a0 {
			weights := w.weights[i*cols : (i+1)*cols]
			dists := w.dists[i*cols : (i+1)*cols]
			if _, nearest := asm.HardestNegative(dists, w.noLabels[:cols], 1, -1); nearest < nearBelow {
				w.nearPairs(s, part, a0+i, weights, dists, kernel, nearBelow)
			}
			asm.AddDivide(weights, weights, w.zeros[:cols], dists)
		}
	}
	w.product = scratch.Grow(w.product, blockAnchors*(dim+1))
	rows := a1 - a0
	asm.InnerProducts(w.product, dim+1, w.weights[:rows*cols], w.columns, cols)
	acc := s.acc[(part*s.n+a0)*(dim+1) : (part*s.n+a1)*(dim+1)]
	asm.AddScaled(acc, 1, w.product[:rows*(dim+1)])
}

// nearPairs moves anchor a's pairs nearer than nearBelow out of the block
// weights and adds their gradient on the anchor's kernel row, from the
// exact difference of the rows, to the chunk's direct sums.
func (w *blockWorker) nearPairs(s *refState, part, a int, weights, dists, kernel []float32,
	nearBelow float32) {

	dim := s.dim
	direct := s.direct[(part*s.n+a)*dim : (part*s.n+a+1)*dim]
	w.diff = scratch.Grow(w.diff, dim)
	for j, d := range dists {
		if weights[j] == 0 || d <= 0 || d >= nearBelow {
			continue
		}
		copy(w.diff, s.qKernel[a*dim:(a+1)*dim])
		asm.AddScaled(w.diff, -1, kernel[j*dim:(j+1)*dim])
		asm.AddScaled(direct, weights[j]/d, w.diff)
		weights[j] = 0
	}
}

// fill returns s with n values, all v.
func fill(s []float32, n int, v float32) []float32 {
	s = scratch.Grow(s, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// stream runs the main pass over every chunk of candidates and merges the
// chunks' selections in order.
func (s *refState) stream(group *parallel.Group) {
	s.chunks = s.chunks[:0]
	if s.cfg.WithBatch {
		s.chunks = append(s.chunks, chunk{batch: true, start: 0, end: s.n})
	}
	if s.m > 0 {
		count := min(maxChunks, (s.m+chunkCols-1)/chunkCols)
		size := ((s.m+count-1)/count + chunkCols - 1) / chunkCols * chunkCols
		for start := 0; start < s.m; start += size {
			s.chunks = append(s.chunks, chunk{start: start, end: min(start+size, s.m)})
		}
	}
	parts := len(s.chunks)
	s.prepareState(parts)
	if parts == 0 {
		return
	}
	workers := parallel.Workers(s.cfg.Workers, parts)
	if len(s.workers) < workers {
		s.workers = append(s.workers, make([]blockWorker, workers-len(s.workers))...)
	}
	for i := range workers {
		w := &s.workers[i]
		w.dists = scratch.Grow(w.dists, blockAnchors*blockCols)
		w.weights = scratch.Grow(w.weights, blockAnchors*blockCols)
	}
	s.job = blockJob{s: s, pass: streamPass, rows: s.qKernel}
	group.Do(&s.job, parts, workers)
	s.job = blockJob{}
	s.merge()
}

// prepareState sizes and resets the running state of parts chunks.
func (s *refState) prepareState(parts int) {
	n, dim, pairs := s.n, s.dim, len(s.pos)
	switch s.cfg.Strategy {
	case BatchHard:
		s.nearest = growBest(s.nearest, max(parts, 1)*n)
	case SemiHard:
		s.above = growBest(s.above, max(parts, 1)*pairs)
	case BatchAll:
		s.sums = growSum(s.sums, max(parts, 1)*pairs)
		s.rowSums = scratch.Grow(s.rowSums, max(parts, 1)*n)
		clear(s.rowSums)
		s.acc = scratch.Grow(s.acc, parts*n*(dim+1))
		clear(s.acc)
		s.direct = scratch.Grow(s.direct, parts*n*dim)
		clear(s.direct)
		s.prepareMean()
		if s.cfg.WithBatch {
			s.batchW = scratch.Grow(s.batchW, n*n)
			clear(s.batchW)
		}
	}
	if s.cfg.WithBatch {
		s.batchD = scratch.Grow(s.batchD, n*n)
	}
}

// prepareMean sets the anchors' mean kernel row, their rows minus it and
// the largest norm of those.
func (s *refState) prepareMean() {
	n, dim := s.n, s.dim
	s.mean = scratch.Grow(s.mean, dim)
	clear(s.mean)
	for a := range n {
		asm.AddScaled(s.mean, 1, s.qKernel[a*dim:(a+1)*dim])
	}
	for k := range s.mean {
		s.mean[k] /= float32(n)
	}
	s.centred = scratch.Grow(s.centred, n*dim)
	copy(s.centred, s.qKernel[:n*dim])
	s.spread = 0
	var normSq [1]float32
	for a := range n {
		row := s.centred[a*dim : (a+1)*dim]
		asm.AddScaled(row, -1, s.mean)
		asm.RowDots(normSq[:], row, dim, row, dim, dim)
		s.spread = max(s.spread, float32(math.Sqrt(float64(normSq[0]))))
	}
}

// merge folds every chunk's selections into chunk 0's, in chunk order,
// so that ties go to the lowest candidate.
func (s *refState) merge() {
	parts := len(s.chunks)
	switch s.cfg.Strategy {
	case BatchHard:
		mergeBest(s.nearest, s.n, parts, false)
	case SemiHard:
		mergeBest(s.above, len(s.pos), parts, false)
	}
}

// mergeBest folds parts runs of size selections into the first, keeping
// the smaller distance (or the larger, with farthest); a later run wins
// only when strictly better.
func mergeBest(best []refBest, size, parts int, farthest bool) {
	for p := 1; p < parts; p++ {
		for i, b := range best[p*size : (p+1)*size] {
			first := &best[i]
			if b.col < 0 {
				continue
			}
			if first.col < 0 || (!farthest && b.dist < first.dist) ||
				(farthest && b.dist > first.dist) {
				*first = b
			}
		}
	}
}

// fallBack finds, for semi-hard pairs without a negative farther than
// their positive, the anchor's farthest negative, in a pass over the
// candidates for those anchors only.
func (s *refState) fallBack(group *parallel.Group) {
	s.need = s.need[:0]
	for a := range s.n {
		for k := s.posStart[a]; k < s.posStart[a+1]; k++ {
			if s.above[k].col < 0 && s.valid(a) {
				s.need = append(s.need, int32(a))
				break
			}
		}
	}
	if len(s.need) == 0 {
		return
	}
	dim, parts := s.dim, len(s.chunks)
	s.needRows = scratch.Grow(s.needRows, len(s.need)*dim)
	for i, a := range s.need {
		copy(s.needRows[i*dim:(i+1)*dim], s.qKernel[int(a)*dim:int(a+1)*dim])
	}
	s.farthest = growBest(s.farthest, parts*len(s.need))
	s.job = blockJob{s: s, pass: farthestPass, anchors: s.need, rows: s.needRows}
	group.Do(&s.job, parts, parallel.Workers(s.cfg.Workers, parts))
	s.job = blockJob{}
	mergeBest(s.farthest, len(s.need), parts, true)
}

// growBest returns s sized to n selections, each with no candidate.
func growBest(s []refBest, n int) []refBest {
	s = scratch.Grow(s, n)
	for i := range s {
		s[i] = refBest{col: -1}
	}
	return s
}

// growSum returns s sized to n sums, all zero.
func growSum(s []refSum, n int) []refSum {
	s = scratch.Grow(s, n)
	clear(s)
	return s
}
