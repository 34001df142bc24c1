package mining_test

import (
	"github.com/tripletmine/triplet/internal/fullmatrix"
	"github.com/tripletmine/triplet/mining"
)

// refResult is what the float64 reference computes for a batch.
type refResult struct {
	loss     float64
	grad     []float64 // dL/dD, n×n
	triplets []mining.Triplet
	stats    mining.Stats
}

// refHinge is the loss of one triplet and its derivative, from the
// definitions.
var refHinge = fullmatrix.Hinge

// refMine mines a batch with straight loops from the definitions, in
// float64, in O(n³) time.
func refMine(cfg mining.Config, d []float32, labels []int32) refResult {
	n := len(labels)
	at := func(a, b int) float64 { return float64(d[a*n+b]) }
	margin := float64(cfg.Margin)
	var r refResult
	r.grad = make([]float64, n*n)

	// Every selected triplet with its loss and slope, in anchor order.
	type chosen struct {
		a, p, n     int
		loss, slope float64
	}
	var all []chosen
	for a := range n {
		var pos, neg []int
		for k := range n {
			switch {
			case k != a && labels[k] == labels[a]:
				pos = append(pos, k)
			case labels[k] != labels[a]:
				neg = append(neg, k)
			}
		}
		if len(pos) == 0 || len(neg) == 0 {
			continue
		}
		r.stats.Anchors++
		r.stats.Pairs += len(pos)
		r.stats.Triplets += int64(len(pos) * len(neg))
		pick := func(p, ng int) {
			loss, slope := refHinge(cfg.SoftMargin, at(a, p)-at(a, ng)+margin)
			all = append(all, chosen{a, p, ng, loss, slope})
		}
		switch cfg.Strategy {
		case mining.BatchAll:
			for _, p := range pos {
				for _, ng := range neg {
					pick(p, ng)
				}
			}
		case mining.BatchHard:
			p, ng := pos[0], neg[0]
			for _, k := range pos {
				if at(a, k) > at(a, p) {
					p = k
				}
			}
			for _, k := range neg {
				if at(a, k) < at(a, ng) {
					ng = k
				}
			}
			pick(p, ng)
		case mining.SemiHard:
			for _, p := range pos {
				ng := -1
				for _, k := range neg {
					if at(a, k) > at(a, p) && (ng < 0 || at(a, k) < at(a, ng)) {
						ng = k
					}
				}
				if ng < 0 {
					ng = neg[0]
					for _, k := range neg {
						if at(a, k) > at(a, ng) {
							ng = k
						}
					}
				}
				pick(p, ng)
			}
		}
	}

	var total, sumP, sumN float64
	for _, c := range all {
		total += c.loss
		sumP += at(c.a, c.p)
		sumN += at(c.a, c.n)
		if c.loss > 0 {
			r.stats.Active++
		}
	}
	r.stats.Selected = int64(len(all))
	if len(all) > 0 {
		r.stats.ActiveFraction = float64(r.stats.Active) / float64(len(all))
		r.stats.MeanPositive = sumP / float64(len(all))
		r.stats.MeanNegative = sumN / float64(len(all))
	}

	divisor := float64(len(all))
	switch {
	case cfg.Reduction == mining.SumReduction:
		divisor = 1
	case cfg.Reduction == mining.DefaultReduction && cfg.Strategy == mining.BatchAll:
		divisor = float64(r.stats.Active)
	}
	if divisor > 0 {
		r.loss = total / divisor
		for _, c := range all {
			r.grad[c.a*n+c.p] += c.slope / divisor
			r.grad[c.a*n+c.n] -= c.slope / divisor
		}
	}
	for _, c := range all {
		if cfg.Strategy != mining.BatchAll || c.loss > 0 {
			r.triplets = append(r.triplets, mining.Triplet{
				Anchor: int32(c.a), Positive: int32(c.p), Negative: int32(c.n)})
		}
	}
	return r
}

// refLossAt recomputes the reference loss with the selections held fixed
// and the distances moved to d: the function whose derivative the
// gradient is.
func refLossAt(cfg mining.Config, triplets []mining.Triplet, d []float64, n int,
	divisor float64) float64 {

	var total float64
	for _, t := range triplets {
		loss, _ := refHinge(cfg.SoftMargin,
			d[int(t.Anchor)*n+int(t.Positive)]-d[int(t.Anchor)*n+int(t.Negative)]+float64(cfg.Margin))
		total += loss
	}
	return total / divisor
}
