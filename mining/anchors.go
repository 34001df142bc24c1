package mining

import (
	"math"

	"github.com/tripletmine/triplet/asm"
)

// anchorBlock is the number of anchors in one part of the parallel work.
const anchorBlock = 16

// The two passes over the anchors: selecting (losses and counts), then,
// for batch-all, writing dL/dD once the reduction's divisor is known.
const (
	selectPhase = iota
	weightPhase
)

// anchorJob runs one pass over the anchors of a batch; every anchor writes
// only its own slots, so the anchors may run in any order.
type anchorJob struct {
	m      *Miner
	cfg    Config
	dists  []float32
	labels []int32
	n      int
	phase  int
	scale  float64 // 1 / the reduction's divisor, or 0
}

func (j *anchorJob) Run(_, part int) {
	for a := part * anchorBlock; a < min((part+1)*anchorBlock, j.n); a++ {
		row := j.dists[a*j.n : (a+1)*j.n]
		if j.phase == selectPhase {
			j.m.anchors[a] = anchor{positive: -1, negative: -1,
				notFinite: j.m.rowSums[a] != 0}
			if j.m.anchors[a].notFinite {
				continue
			}
		}
		switch {
		case j.phase == weightPhase:
			j.weights(a, row)
		case j.cfg.Strategy == BatchAll:
			j.batchAll(a, row)
		case j.cfg.Strategy == BatchHard:
			j.batchHard(a, row)
		default:
			j.semiHard(a, row)
		}
	}
}

// class returns anchor a's class, a among it, as a run of m.order.
func (j *anchorJob) class(a int) []int32 {
	return j.m.order[j.m.classOf[a]:j.m.classEnd[a]]
}

// batchAll sums, for each positive p of anchor a, the losses of the
// triplets (a, p, n) over all negatives n, and counts the active ones.
func (j *anchorJob) batchAll(a int, row []float32) {
	pairs := j.m.pairs[j.m.offsets[a]:j.m.offsets[a+1]]
	if len(pairs) == 0 {
		return
	}
	label, margin := j.labels[a], j.cfg.Margin
	k := 0
	var positiveSum float64
	for _, p := range j.class(a) {
		if int(p) == a {
			continue
		}
		dap := row[p]
		positiveSum += float64(dap)
		pr := &pairs[k]
		k++
		*pr = pair{positive: p, negative: -1, dap: dap, threshold: dap + margin}
		if !j.cfg.SoftMargin {
			pr.sum, pr.active = hingeSum(row, j.labels, label, a, pr.threshold)
			continue
		}
		for n, d := range row {
			if j.labels[n] != label {
				loss, slope := j.cfg.hinge(float64(dap) - float64(d) + float64(margin))
				pr.sum += loss
				pr.slope += slope
			}
		}
		pr.active = int64(j.n - len(j.class(a)))
	}

	j.m.anchors[a].negativeSum = float64(j.m.rowSums[j.n+a]) - positiveSum
}

// hingeSum is asm.HingeSum with the count as an int64.
func hingeSum(row []float32, labels []int32, label int32, a int, t float32) (float64, int64) {
	sum, count := asm.HingeSum(row, labels, label, a, t)
	return sum, int64(count)
}

// weights writes row a of batch-all's dL/dD: each positive p gets the
// summed slopes of its triplets, each negative n minus the summed slopes
// of the triplets it is in, both times the reduction's scale. With the
// hinge a triplet's slope is 1 when active and 0 otherwise, so a
// negative's weight counts the thresholds d(a,p) + margin above d(a,n).
func (j *anchorJob) weights(a int, row []float32) {
	out := j.m.weights[a*j.n : (a+1)*j.n]
	clear(out)
	pairs := j.m.pairs[j.m.offsets[a]:j.m.offsets[a+1]]
	if len(pairs) == 0 || j.scale == 0 {
		return
	}
	label := j.labels[a]
	if !j.cfg.SoftMargin {
		for _, p := range pairs {
			out[p.positive] = float32(float64(p.active) * j.scale)
			asm.AddHingeCounts(out, row, j.labels, label, a, p.threshold, float32(-j.scale))
		}
		return
	}
	margin := float64(j.cfg.Margin)
	for _, p := range pairs {
		out[p.positive] = float32(p.slope * j.scale)
		for n, d := range row {
			if j.labels[n] != label {
				_, slope := j.cfg.hinge(float64(p.dap) - float64(d) + margin)
				out[n] -= float32(slope * j.scale)
			}
		}
	}
}

// batchHard selects anchor a's farthest positive and nearest negative.
func (j *anchorJob) batchHard(a int, row []float32) {
	an := &j.m.anchors[a]
	label := j.labels[a]
	p, dap := asm.HardestPositive(row, j.labels, label, a)
	n, dan := asm.HardestNegative(row, j.labels, label, a)
	if p < 0 || n < 0 {
		return
	}
	an.positive, an.negative, an.dap, an.dan = int32(p), int32(n), dap, dan
	an.loss, an.slope = j.cfg.hinge(float64(dap) - float64(dan) + float64(j.cfg.Margin))
}

// semiHard selects, for each positive p of anchor a, the nearest negative
// farther than p, or the farthest negative when none is.
func (j *anchorJob) semiHard(a int, row []float32) {
	pairs := j.m.pairs[j.m.offsets[a]:j.m.offsets[a+1]]
	if len(pairs) == 0 {
		return
	}
	label := j.labels[a]
	farthest := -1
	k := 0
	for _, p := range j.class(a) {
		if int(p) == a {
			continue
		}
		dap := row[p]
		n, dan := asm.SemiHardNegative(row, j.labels, label, a, dap)
		if n < 0 {
			if farthest < 0 {
				farthest = farthestNegative(row, j.labels, label)
			}
			n, dan = farthest, row[farthest]
		}
		loss, slope := j.cfg.hinge(float64(dap) - float64(dan) + float64(j.cfg.Margin))
		pairs[k] = pair{positive: p, negative: int32(n), dap: dap, dan: dan,
			loss: loss, slope: slope}
		k++
	}
}

// farthestNegative returns the index of the largest distance in row among
// the rows whose label differs from label, the lowest index on ties. The
// caller knows there is one.
func farthestNegative(row []float32, labels []int32, label int32) int {
	best, bestValue := -1, float32(math.Inf(-1))
	for k, d := range row {
		if labels[k] != label && (best < 0 || d > bestValue) {
			best, bestValue = k, d
		}
	}
	return best
}
