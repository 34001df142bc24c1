package mining

import (
	"fmt"
	"math"
	"slices"

	"github.com/tripletmine/triplet/asm"
	"github.com/tripletmine/triplet/dist"
	"github.com/tripletmine/triplet/internal/scratch"
)

// reduce merges the selections and sums of every chunk into the loss,
// the statistics, the triplets and the nonzero entries of dL/dD (before
// the dense part of batch-all), in anchor order.
func (s *refState) reduce(r *Result) {
	st := &r.Stats
	var total, sumPositive, sumNegative float64
	s.entries = s.entries[:0]

	// pick records one selected triplet of batch-hard or semi-hard.
	pick := func(a int, p refPair, ng refBest) {
		loss, slope := s.cfg.hinge(float64(p.dap) - float64(ng.dist) + float64(s.cfg.Margin))
		total += loss
		if s.cfg.active(loss) {
			st.Active++
		}
		sumPositive += float64(p.dap)
		sumNegative += float64(ng.dist)
		r.Triplets = append(r.Triplets, Triplet{int32(a), p.col, ng.col})
		s.entries = appendPair(s.entries, a, p.col, ng.col, slope)
	}

	switch s.cfg.Strategy {
	case BatchHard:
		st.Selected = int64(st.Anchors)
		for a := range s.n {
			if s.valid(a) {
				pick(a, s.hardestPositive(a), s.nearest[a])
			}
		}

	case SemiHard:
		st.Selected = int64(st.Pairs)
		for a := range s.n {
			if !s.valid(a) {
				continue
			}
			for k, p := range s.pairs(a) {
				ng := s.above[int(s.posStart[a])+k]
				if ng.col < 0 {
					i, _ := slices.BinarySearch(s.need, int32(a))
					ng = s.farthest[i]
				}
				pick(a, p, ng)
			}
		}

	case BatchAll:
		st.Selected = st.Triplets
		parts := len(s.chunks)
		for a := range s.n {
			if !s.valid(a) {
				continue
			}
			negSum := -s.sameSum[a] - s.exclSum[a]
			for part := range parts {
				negSum += s.rowSums[part*s.n+a]
			}
			pairs := s.pairs(a)
			sumNegative += negSum * float64(len(pairs))
			for k, p := range pairs {
				var sum refSum
				for part := range parts {
					ps := s.sums[part*len(s.pos)+int(s.posStart[a])+k]
					sum.loss += ps.loss
					sum.slope += ps.slope
					sum.active += ps.active
				}
				total += sum.loss
				st.Active += sum.active
				sumPositive += float64(p.dap) * float64(s.negatives[a])
				slope := sum.slope
				if !s.cfg.SoftMargin {
					slope = float64(sum.active)
				}
				if slope != 0 {
					s.entries = append(s.entries, dist.Entry{Row: int32(a), Col: p.col,
						Weight: float32(slope)})
				}
			}
		}
	}

	if st.Selected > 0 {
		st.ActiveFraction = float64(st.Active) / float64(st.Selected)
		st.MeanPositive = sumPositive / float64(st.Selected)
		st.MeanNegative = sumNegative / float64(st.Selected)
	}
	s.scale = 0
	if d := divisor(s.cfg, *st); d > 0 {
		s.scale = 1 / d
		r.Loss = total / d
	}
}

// appendPair appends the entries of one selected triplet with the given
// slope, unscaled.
func appendPair(entries []dist.Entry, a int, p, n int32, slope float64) []dist.Entry {
	if slope == 0 {
		return entries
	}
	return append(entries, dist.Entry{Row: int32(a), Col: p, Weight: float32(slope)},
		dist.Entry{Row: int32(a), Col: n, Weight: float32(-slope)})
}

// hardestPositive returns anchor a's farthest positive, the lowest
// candidate on ties.
func (s *refState) hardestPositive(a int) refPair {
	pairs := s.pairs(a)
	best := pairs[0]
	for _, p := range pairs[1:] {
		if p.dap > best.dap {
			best = p
		}
	}
	return best
}

// backward adds the gradient with respect to the batch rows to grad: the
// sparse entries through dist (references as constants, batch columns on
// both sides), and batch-all's dense sums over the references on the
// kernel rows, carried back through the metric. It checks the whole
// gradient before it touches grad.
func (s *refState) backward(grad []float32) error {
	n, dim := s.n, s.dim
	s.gradIn = scratch.Grow(s.gradIn, n*dim)
	clear(s.gradIn)
	if s.scale == 0 {
		return nil
	}

	batchEntries, refEntries := s.splitEntries()
	if s.cfg.Strategy == BatchAll && s.cfg.WithBatch {
		for k := range s.batchW {
			s.batchW[k] *= float32(s.scale)
		}
		for _, en := range batchEntries {
			s.batchW[int(en.Row)*n+int(en.Col)] += en.Weight
		}
		err := s.calc.PairwiseGrad(s.gradIn, s.batch.Rows, dim, s.batchD, s.batchW)
		if err != nil {
			return err
		}
	} else if len(batchEntries) > 0 {
		if err := s.calc.PairwiseGradSparse(s.gradIn, s.batch.Rows, dim, batchEntries); err != nil {
			return err
		}
	}
	if len(refEntries) > 0 {
		if err := s.calc.CrossGradSparse(s.gradIn, nil, s.batch.Rows, s.gathered, dim,
			refEntries); err != nil {
			return err
		}
	}
	if s.cfg.Strategy == BatchAll && s.m > 0 {
		s.denseGrad()
		s.metric.AddKernelGrad(s.gradIn, s.update, s.qKernel, s.qNorms, dim)
	}

	for k, v := range s.gradIn {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("%w: the gradient of row %d, column %d is %v", ErrNotFinite,
				k/dim, k%dim, v)
		}
	}
	asm.AddScaled(grad, 1, s.gradIn)
	return nil
}

// splitEntries scales the entries and splits them into those on batch
// columns and those on references; the latter are renumbered into
// s.gathered, which holds just the references they name.
func (s *refState) splitEntries() (batch, refs []dist.Entry) {
	n, dim := int32(s.n), s.dim
	s.batchEntries, s.refEntries = s.batchEntries[:0], s.refEntries[:0]
	s.refCols = s.refCols[:0]
	for _, en := range s.entries {
		en.Weight = float32(float64(en.Weight) * s.scale)
		if en.Col < n {
			s.batchEntries = append(s.batchEntries, en)
			continue
		}
		en.Col -= n
		s.refEntries = append(s.refEntries, en)
		s.refCols = append(s.refCols, en.Col)
	}

	slices.Sort(s.refCols)
	s.refCols = slices.Compact(s.refCols)
	s.gathered = scratch.Grow(s.gathered, len(s.refCols)*dim)
	for i, j := range s.refCols {
		copy(s.gathered[i*dim:(i+1)*dim], s.refs.Rows[int(j)*dim:int(j+1)*dim])
	}
	for k, en := range s.refEntries {
		i, _ := slices.BinarySearch(s.refCols, en.Col)
		s.refEntries[k].Col = int32(i)
	}
	return s.batchEntries, s.refEntries
}

// denseGrad sets s.update to batch-all's gradient on the anchors' kernel
// rows from the references' dense sums: with sum = Σ w·(u - μ) and
// total = Σ w over a chunk, an anchor's share is 2·(total·(u_a - μ) - sum),
// plus the near pairs' exact sums, all times the reduction's scale.
func (s *refState) denseGrad() {
	n, dim := s.n, s.dim
	s.update = scratch.Grow(s.update, n*dim)
	for a := range n {
		out := s.update[a*dim : (a+1)*dim]
		clear(out)
		var total float32
		for part := range s.chunks {
			acc := s.acc[(part*n+a)*(dim+1) : (part*n+a+1)*(dim+1)]
			asm.AddScaled(out, 1, acc[:dim])
			total += acc[dim]
		}

		// out is sum - total·(u_a - μ); adding -3 times itself doubles and
		// negates it exactly.
		asm.AddScaled(out, -total, s.centred[a*dim:(a+1)*dim])
		asm.AddScaled(out, -3, out)
		for part := range s.chunks {
			asm.AddScaled(out, 1, s.direct[(part*n+a)*dim:(part*n+a+1)*dim])
		}
		for k := range out {
			out[k] *= float32(s.scale)
		}
	}
}
