package dist

import (
	"fmt"
	"math"

	"github.com/tripletmine/triplet/asm"
	"github.com/tripletmine/triplet/internal/parallel"
	"github.com/tripletmine/triplet/internal/scratch"
)

// Entry is one nonzero of the gradient of a loss L with respect to a
// distance matrix D: dL/dD[Row][Col] = Weight. Entries for the same pair
// add up.
type Entry struct {
	Row, Col int32
	Weight   float32
}

// PairwiseGrad adds to grad (n×dim, like e) the gradient with respect to
// the rows of e of a loss L, given dLdD, its gradient with respect to the
// n×n matrix D = Pairwise(e), and dists, that matrix as Pairwise computed
// it (only the Euclidean metric reads it; the others accept nil).
//
// The gradient of row i is Σ_j (dLdD[i][j] + dLdD[j][i]) ∂D[i][j]/∂e_i,
// which the Euclidean metrics write as a weighted sum of row differences:
// one n×n×dim matrix product, as costly as the forward pass. The Euclidean
// distance's derivative at distance 0 is taken as 0, and the cosine metric
// carries the gradient through the normalisation of the rows.
//
// The product runs on the rows minus their mean μ, so its rounding error
// is about (n + dim)·2⁻²⁴·Σ_j |w_ij|·(|x_i - μ| + |x_j - μ|), w being the
// weights after the chain rule: relative to the spread of the batch rather
// than to each pair's difference. For the Euclidean metric, whose weights
// dLdD/(2d) grow without bound as pairs get close, pairs much closer than
// that spread go through the exact-difference form of PairwiseGradSparse.
//
// It returns an error and leaves grad alone if a shape does not fit, if e
// is not valid input for Pairwise, or if the gradient is not finite (dLdD
// held NaN or ±Inf, or weights so large that the sums overflow).
func (c *Calculator) PairwiseGrad(grad, e []float32, dim int, dists, dLdD []float32) error {
	n, err := c.prepare(e, nil, dim)
	if err != nil {
		return err
	}
	if err := checkLengths(grad, n*dim, "gradient", dLdD, n*n, "dL/dD"); err != nil {
		return err
	}
	if c.Metric == Euclidean {
		if err := checkLengths(dists, n*n, "distances", nil, 0, ""); err != nil {
			return err
		}
	}

	rows := c.gradientRows(e, nil, dim)
	tile := tileRows(dim)
	tiles := (n + tile - 1) / tile
	parts := tiles * (tiles + 1) / 2
	c.weights = scratch.Grow(c.weights, n*n)
	c.near = scratch.Grow(c.near, parts)
	workers := parallel.Workers(c.Workers, parts)
	c.flips = scratch.Grow(c.flips, workers*tile*tile)
	c.symmetry = symmetryJob{out: c.weights, dLdD: dLdD, flips: c.flips, near: c.near,
		n: n, tile: tile, tiles: tiles}
	if c.Metric == Euclidean {
		c.symmetry.dists, c.symmetry.nearBelow = dists, c.nearBelow
		c.noLabels = scratch.Grow(c.noLabels, tile)
		c.symmetry.noLabels = c.noLabels
	}
	c.group.Do(&c.symmetry, parts, workers)
	c.nearEntries = c.symmetry.nearPairs(c.nearEntries[:0])
	c.symmetry = symmetryJob{}

	c.weightedSums(c.weights, n, rows, n, dim)
	c.update = scratch.Grow(c.update, n*dim)
	c.rowUpdates(rows, 0, n, dim)
	c.addSparse(e, e, 0, c.nearEntries, dim)
	return apply(grad, c.update, dim)
}

// CrossGrad adds to gradQ (n×dim) and gradR (m×dim) the gradients with
// respect to the query rows q and the reference rows r of a loss L, given
// dLdD, its gradient with respect to the n×m matrix D = Cross(q, r), and
// dists, that matrix as Cross computed it (read by the Euclidean metric
// only). gradR may be nil when the references are constants. Errors are
// those of PairwiseGrad.
func (c *Calculator) CrossGrad(gradQ, gradR, q, r []float32, dim int, dists, dLdD []float32) error {
	n, err := c.prepare(q, r, dim)
	if err != nil {
		return err
	}
	m := len(r) / dim
	if err := checkLengths(gradQ, n*dim, "query gradient", dLdD, n*m, "dL/dD"); err != nil {
		return err
	}
	if gradR != nil {
		if err := checkLengths(gradR, m*dim, "reference gradient", nil, 0, ""); err != nil {
			return err
		}
	}
	if c.Metric == Euclidean {
		if err := checkLengths(dists, n*m, "distances", nil, 0, ""); err != nil {
			return err
		}
	}

	rows := c.gradientRows(q, r, dim)
	weights := dLdD
	c.nearEntries = c.nearEntries[:0]
	if c.Metric == Euclidean {
		c.weights = scratch.Grow(c.weights, n*m)
		for k, g := range dLdD {
			i, j := k/m, k%m
			d := dists[k]
			if isNear(d, c.nearBelow) {
				c.weights[k] = 0
				c.nearEntries = append(c.nearEntries, Entry{Row: int32(i), Col: int32(j),
					Weight: g})
				continue
			}
			c.weights[k] = euclideanWeight(g, d)
		}
		weights = c.weights
	}

	c.update = scratch.Grow(c.update, (n+m)*dim)
	c.weightedSums(weights, n, rows[n*dim:], m, dim)
	c.rowUpdates(rows, 0, n, dim)
	if gradR != nil {
		c.flipped = scratch.Grow(c.flipped, m*n)
		asm.Transpose(c.flipped, n, weights, m, n, m)
		c.weightedSums(c.flipped, m, rows[:n*dim], n, dim)
		c.rowUpdates(rows, n, m, dim)
	}
	c.addSparse(q, r, n, c.nearEntries, dim)
	return applyBoth(gradQ, gradR, c.update, dim)
}

// applyBoth applies the updates of the query rows and, if gradR is not
// nil, of the reference rows that follow them, checking all before it
// changes either gradient.
func applyBoth(gradQ, gradR, update []float32, dim int) error {
	n := len(gradQ)
	if gradR == nil {
		return apply(gradQ, update[:n], dim)
	}
	if err := check(update[:n+len(gradR)], dim); err != nil {
		return err
	}
	_ = apply(gradQ, update[:n], dim)
	return apply(gradR, update[n:], dim)
}

// PairwiseGradSparse is PairwiseGrad for a dL/dD given as a list of
// nonzero entries, in O(len(entries)·dim) time. It needs no distances.
func (c *Calculator) PairwiseGradSparse(grad, e []float32, dim int, entries []Entry) error {
	n, err := c.prepare(e, nil, dim)
	if err != nil {
		return err
	}
	if err := checkLengths(grad, n*dim, "gradient", nil, 0, ""); err != nil {
		return err
	}
	if err := checkEntries(entries, n, n); err != nil {
		return err
	}
	rows := c.sparseRows(e, nil, dim)
	c.update = scratch.Grow(c.update, n*dim)
	clear(c.update)
	c.addSparse(rows, rows, 0, entries, dim)
	c.finishCosine(rows, 0, n, dim)
	return apply(grad, c.update, dim)
}

// CrossGradSparse is CrossGrad for a dL/dD given as a list of nonzero
// entries (Row a query, Col a reference), in O(len(entries)·dim) time.
// gradR may be nil.
func (c *Calculator) CrossGradSparse(gradQ, gradR, q, r []float32, dim int,
	entries []Entry) error {

	n, err := c.prepare(q, r, dim)
	if err != nil {
		return err
	}
	m := len(r) / dim
	if err := checkLengths(gradQ, n*dim, "query gradient", nil, 0, ""); err != nil {
		return err
	}
	if gradR != nil {
		if err := checkLengths(gradR, m*dim, "reference gradient", nil, 0, ""); err != nil {
			return err
		}
	}
	if err := checkEntries(entries, n, m); err != nil {
		return err
	}
	rows := c.sparseRows(q, r, dim)
	c.update = scratch.Grow(c.update, (n+m)*dim)
	clear(c.update)
	c.addSparse(rows[:n*dim], rows[n*dim:], n, entries, dim)
	c.finishCosine(rows, 0, n+m, dim)
	return applyBoth(gradQ, gradR, c.update, dim)
}

// checkLengths reports a slice whose length is not the one its shape
// needs; a name of "" skips the second slice.
func checkLengths(a []float32, na int, nameA string, b []float32, nb int, nameB string) error {
	if len(a) != na {
		return fmt.Errorf("%w: %s has %d values, want %d", ErrShape, nameA, len(a), na)
	}
	if nameB != "" && len(b) != nb {
		return fmt.Errorf("%w: %s has %d values, want %d", ErrShape, nameB, len(b), nb)
	}
	return nil
}

// checkEntries reports the first entry outside an n×m matrix or with a
// weight that is not finite.
func checkEntries(entries []Entry, n, m int) error {
	for k, en := range entries {
		if en.Row < 0 || int(en.Row) >= n || en.Col < 0 || int(en.Col) >= m {
			return fmt.Errorf("%w: entry %d is at (%d, %d), outside the %d×%d matrix",
				ErrShape, k, en.Row, en.Col, n, m)
		}
		if w := float64(en.Weight); math.IsNaN(w) || math.IsInf(w, 0) {
			return fmt.Errorf("%w: entry %d has weight %v", ErrNotFinite, k, en.Weight)
		}
	}
	return nil
}

// nearRatio sets which pairs the dense Euclidean gradient leaves to the
// sparse one: those whose distance d is below 2s/nearRatio, s being the
// spread of the rows (the largest norm of a centred row, which bounds
// every centred coordinate). The dense form
// sums w·x and w·y separately with w = dL/dD / (2d), and its rounding
// error grows like w·2s; the sparse form computes x - y first. Keeping
// 2s/(2d) below nearRatio bounds the dense error by about
// nearRatio·(n + dim)·2⁻²⁴·Σ|dL/dD| per row.
const nearRatio = 64

// isNear reports whether a pair at distance d goes to the sparse gradient,
// given the bound below = 2s/nearRatio. Distance 0 has gradient 0 anyway.
func isNear(d, below float32) bool {
	return d > 0 && d < below
}

// euclideanWeight turns dL/dD for a Euclidean distance d into dL/d(d²),
// taking the derivative at d = 0 as 0.
func euclideanWeight(g, d float32) float32 {
	if d == 0 {
		return 0
	}
	return g / (2 * d)
}

// gradientRows returns the rows that the dense gradients work on, those of
// q and then of r: for the Euclidean metrics the rows minus their mean
// (summed in float32: any common shift is exact here, the mean only
// keeps the weighted sums from losing precision to a large offset, since
// the gradient depends only on differences of rows), and sets c.nearBelow
// from their spread, the largest norm of a centred row; for cosine the
// rows scaled to norm 1.
func (c *Calculator) gradientRows(q, r []float32, dim int) []float32 {
	if c.Metric == Cosine {
		return c.scaledUnit(q, r, dim, 1)
	}
	total := len(q) + len(r)
	c.centred = scratch.Grow(c.centred, total)
	copy(c.centred, q)
	copy(c.centred[len(q):], r)

	c.mean = scratch.Grow(c.mean, dim)
	clear(c.mean)
	for i := 0; i < total; i += dim {
		asm.AddScaled(c.mean, 1, c.centred[i:i+dim])
	}
	count := float32(total / dim)
	for k := range c.mean {
		c.mean[k] /= count
	}

	var normSq [1]float32
	var spreadSq float32
	for i := 0; i < total; i += dim {
		row := c.centred[i : i+dim]
		asm.AddScaled(row, -1, c.mean)
		asm.RowDots(normSq[:], row, dim, row, dim, dim)
		spreadSq = max(spreadSq, normSq[0])
	}
	c.nearBelow = 2 * float32(math.Sqrt(float64(spreadSq))) / nearRatio
	return c.centred
}

// sparseRows returns the rows that the sparse gradients work on: the
// inputs themselves, or for cosine the rows scaled to norm 1.
func (c *Calculator) sparseRows(q, r []float32, dim int) []float32 {
	if c.Metric == Cosine {
		return c.scaledUnit(q, r, dim, 1)
	}
	if r == nil {
		return q
	}
	c.centred = scratch.Grow(c.centred, len(q)+len(r))
	copy(c.centred, q)
	copy(c.centred[len(q):], r)
	return c.centred
}

// weightedSums sets c.sums (n×(dim+1)) to weights (n×m) times the m rows
// of rows extended by a 1: row i holds Σ_j w_ij·x_j and then Σ_j w_ij.
func (c *Calculator) weightedSums(weights []float32, n int, rows []float32, m, dim int) {
	c.columns = scratch.Grow(c.columns, (dim+1)*m)
	asm.Transpose(c.columns, m, rows, dim, m, dim)
	ones := c.columns[dim*m:]
	for j := range ones {
		ones[j] = 1
	}

	c.sums = scratch.Grow(c.sums, n*(dim+1))
	c.product = productJob{out: c.sums, ld: dim + 1, a: weights, b: c.columns, k: m, n: n}
	c.group.Do(&c.product, (n+productRows-1)/productRows, c.Workers)
	c.product = productJob{}
}

// rowUpdates turns the weighted sums in c.sums of rows [i0, i0+count) into
// their gradient updates in c.update (rows are indexed like the inputs,
// queries then references). For the Euclidean metrics row i's update is
// 2·(Σ_j w_ij·(x_i - x_j)) = 2·(total·x_i - sum); for cosine the same sum
// without the 2 is the gradient on the unit row, carried back through the
// normalisation.
func (c *Calculator) rowUpdates(rows []float32, i0, count, dim int) {
	for i := range count {
		x := rows[(i0+i)*dim : (i0+i+1)*dim]
		out := c.update[(i0+i)*dim : (i0+i+1)*dim]
		sum := c.sums[i*(dim+1) : (i+1)*(dim+1)]
		copy(out, sum[:dim])
		asm.AddScaled(out, -sum[dim], x)

		// out is now sum - total·x; adding -3 (or -2) times itself turns it
		// into 2·(total·x - sum) (or total·x - sum) exactly, as a power of two
		// times out is representable.
		if c.Metric == Cosine {
			asm.AddScaled(out, -2, out)
		} else {
			asm.AddScaled(out, -3, out)
		}
	}
	c.finishCosine(rows, i0, count, dim)
}

// finishCosine carries the gradient on unit rows [i0, i0+count) in
// c.update back through the normalisation x̂ = x/||x||: the update becomes
// (g - x̂·(x̂·g)) / ||x||. It does nothing for the other metrics.
func (c *Calculator) finishCosine(unit []float32, i0, count, dim int) {
	if c.Metric != Cosine {
		return
	}
	for i := i0; i < i0+count; i++ {
		x := unit[i*dim : (i+1)*dim]
		g := c.update[i*dim : (i+1)*dim]
		var along float64
		for k := range x {
			along += float64(x[k]) * float64(g[k])
		}
		inv := 1 / math.Sqrt(float64(c.normsSq[i]))
		for k := range x {
			g[k] = float32((float64(g[k]) - along*float64(x[k])) * inv)
		}
	}
}

// addSparse adds to c.update, in which r's rows start at row offset, the
// gradient of the entries: for the Euclidean metrics w·∂D/∂x on both rows
// of each pair, computed from the difference of the two rows themselves;
// for cosine the gradient on the unit rows.
func (c *Calculator) addSparse(q, r []float32, offset int, entries []Entry, dim int) {
	c.diff = scratch.Grow(c.diff, dim)
	var normSq [1]float32
	for _, en := range entries {
		x := q[int(en.Row)*dim : int(en.Row+1)*dim]
		y := r[int(en.Col)*dim : int(en.Col+1)*dim]
		copy(c.diff, x)
		asm.AddScaled(c.diff, -1, y)

		var w float32
		switch c.Metric {
		case SquaredEuclidean:
			w = 2 * en.Weight
		case Euclidean:
			asm.RowDots(normSq[:], c.diff, dim, c.diff, dim, dim)
			w = 2 * euclideanWeight(en.Weight, float32(math.Sqrt(float64(normSq[0]))))
		case Cosine:
			w = en.Weight
		}
		row := int(en.Row) * dim
		col := (offset + int(en.Col)) * dim
		asm.AddScaled(c.update[row:row+dim], w, c.diff)
		asm.AddScaled(c.update[col:col+dim], -w, c.diff)
	}
}

// apply adds update to grad, unless a value of update is not finite.
func apply(grad, update []float32, dim int) error {
	update = update[:len(grad)]
	if err := check(update, dim); err != nil {
		return err
	}
	if len(grad) > 0 {
		asm.AddScaled(grad, 1, update)
	}
	return nil
}

// check reports the first value of a gradient update that is not finite.
func check(update []float32, dim int) error {
	for k, v := range update {
		if math.Float32bits(v)&exponentBits == exponentBits {
			return fmt.Errorf("%w: the gradient of row %d, column %d is %v "+
				"(dL/dD not finite, or too large)", ErrNotFinite, k/dim, k%dim, v)
		}
	}
	return nil
}

// exponentBits is the exponent field of a float32: all ones for NaN and
// ±Inf only.
const exponentBits = 0x7f800000
