package dist

import (
	"fmt"
	"math"

	"github.com/tripletmine/triplet/asm"
	"github.com/tripletmine/triplet/internal/parallel"
	"github.com/tripletmine/triplet/internal/scratch"
)

// A Calculator computes distance matrices and their gradients with one
// metric and worker count. It keeps scratch space between calls, so that a
// call with the shapes of an earlier one allocates nothing. A Calculator
// must not be used by two goroutines at once; its zero value computes
// squared Euclidean distances on GOMAXPROCS goroutines.
type Calculator struct {
	// Metric is the distance computed.
	Metric Metric

	// Workers is the number of goroutines a call may use; 0 means
	// GOMAXPROCS. Results do not depend on it.
	Workers int

	group    parallel.Group
	pairwise pairwiseJob
	cross    crossJob
	product  productJob
	symmetry symmetryJob

	normsSq  []float32 // squared norm of each row, queries then references
	unit     []float32 // cosine: rows scaled to norm 1/√2, or 1 for gradients
	centred  []float32 // rows minus a common shift, for gradients
	weights  []float32 // gradient weights on pairs, symmetrised or transposed
	columns  []float32 // the transpose of centred or unit, with a row of ones
	sums     []float32 // weights times columns: weighted sums and weight totals
	flipped  []float32 // the transpose of the cross weights
	update   []float32 // the gradient before it is checked and added
	diff     []float32 // one row difference, for sparse gradients
	mean     []float32 // the mean row
	flips    []float32 // per worker, a transposed tile of dL/dD
	noLabels []int32   // zero labels, for reductions that ignore labels
	near     []bool    // which parts of the symmetry job met near pairs

	// nearBelow is the distance under which the dense Euclidean gradient
	// leaves a pair to the sparse one.
	nearBelow float32

	// nearEntries are the pairs that the dense Euclidean gradient leaves to
	// the sparse one.
	nearEntries []Entry
}

// maxNormSq bounds the squared norm of a row: with every row below it,
// ||x - y||² ≤ (||x|| + ||y||)² stays below float32's largest value with
// room for rounding.
const maxNormSq = math.MaxFloat32 / 4.5

// Pairwise computes the n×n distances between the n = len(e)/dim rows of e
// (row-major) and returns them in dst[:n*n], row-major; dst is reused if
// its capacity suffices and allocated otherwise. The matrix is symmetric
// bit for bit, and the diagonal is exactly 0. Each pair is computed once,
// in tiles of rows that stay in cache, and mirrored.
//
// It returns an error, and leaves dst alone, if dim < 1, if len(e) is not a
// multiple of dim, if a value is NaN or ±Inf, if a row's norm exceeds about
// 8.7e18 (distances could overflow float32), or, for the cosine metric, if
// a row has norm 0.
func (c *Calculator) Pairwise(dst, e []float32, dim int) ([]float32, error) {
	n, err := c.prepare(e, nil, dim)
	if err != nil {
		return dst, err
	}
	dst = scratch.Grow(dst, n*n)
	rows := e
	if c.Metric == Cosine {
		rows = c.scaledUnit(e, nil, dim, math.Sqrt2/2)
	}

	tile := tileRows(dim)
	tiles := (n + tile - 1) / tile
	c.pairwise = pairwiseJob{dst: dst, rows: rows, n: n, dim: dim, tile: tile, tiles: tiles,
		metric: c.Metric}
	c.group.Do(&c.pairwise, tiles*(tiles+1)/2, c.Workers)
	c.pairwise = pairwiseJob{}
	return dst, nil
}

// Cross computes the n×m distances between the n = len(q)/dim query rows
// of q and the m = len(r)/dim reference rows of r, and returns them in
// dst[:n*m], row i holding query i's distances; dst is reused if its
// capacity suffices. Reference rows go in tiles that stay in cache while
// every query passes over them. Errors are those of Pairwise.
func (c *Calculator) Cross(dst, q, r []float32, dim int) ([]float32, error) {
	n, err := c.prepare(q, r, dim)
	if err != nil {
		return dst, err
	}
	m := len(r) / dim
	dst = scratch.Grow(dst, n*m)
	if c.Metric == Cosine {
		scaled := c.scaledUnit(q, r, dim, math.Sqrt2/2)
		q, r = scaled[:n*dim], scaled[n*dim:]
	}

	tile := tileRows(dim)
	queryTile := 4 * tile
	qTiles, rTiles := (n+queryTile-1)/queryTile, (m+tile-1)/tile
	c.cross = crossJob{dst: dst, q: q, r: r, n: n, m: m, dim: dim, qTile: queryTile,
		rTile: tile, qTiles: qTiles, metric: c.Metric}
	c.group.Do(&c.cross, qTiles*rTiles, c.Workers)
	c.cross = crossJob{}
	return dst, nil
}

// prepare checks the metric, the shapes and the rows of q and r (r may be
// nil), and leaves the squared norm of every row, those of q first, in
// c.normsSq. It returns the number of rows of q.
func (c *Calculator) prepare(q, r []float32, dim int) (int, error) {
	if c.Metric < SquaredEuclidean || c.Metric > Cosine {
		return 0, fmt.Errorf("%w %v", ErrMetric, c.Metric)
	}
	if dim < 1 {
		return 0, fmt.Errorf("%w: dim %d < 1", ErrShape, dim)
	}
	for _, s := range []struct {
		name string
		rows []float32
	}{{"embeddings", q}, {"references", r}} {
		if len(s.rows)%dim != 0 {
			return 0, fmt.Errorf("%w: %s have %d values, not a multiple of dim %d",
				ErrShape, s.name, len(s.rows), dim)
		}
	}

	n, m := len(q)/dim, len(r)/dim
	c.normsSq = scratch.Grow(c.normsSq, n+m)
	if err := c.checkRows(q, dim, "embedding", c.normsSq[:n]); err != nil {
		return 0, err
	}
	if err := c.checkRows(r, dim, "reference", c.normsSq[n:]); err != nil {
		return 0, err
	}
	return n, nil
}

// checkRows computes the squared norm of each row into normsSq and reports
// the first row that holds a value that is not finite, whose norm is too
// large, or, for the cosine metric, whose norm is 0.
func (c *Calculator) checkRows(rows []float32, dim int, name string, normsSq []float32) error {
	asm.RowDots(normsSq, rows, dim, rows, dim, dim)
	for i, norm := range normsSq {
		row := rows[i*dim : (i+1)*dim]
		if norm <= maxNormSq && (norm > 0 || c.Metric != Cosine) {
			continue
		}
		for k, v := range row {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("%w: %s row %d, column %d is %v", ErrNotFinite, name, i, k, v)
			}
		}
		if norm == 0 {
			return fmt.Errorf("%w: %s row %d has norm 0 under the cosine metric",
				ErrZeroNorm, name, i)
		}
		return fmt.Errorf("%w: %s row %d has norm %.3g; above %.3g distances could overflow float32",
			ErrTooLarge, name, i, exactNorm(row), math.Sqrt(maxNormSq))
	}
	return nil
}

// exactNorm returns the Euclidean norm of a row in float64.
func exactNorm(row []float32) float64 {
	var sum float64
	for _, v := range row {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum)
}

// scaledUnit writes the rows of q and then of r, each scaled to the given
// norm, into c.unit and returns them. The squared norms come from
// c.normsSq, so identical rows stay identical.
func (c *Calculator) scaledUnit(q, r []float32, dim int, norm float64) []float32 {
	c.unit = scratch.Grow(c.unit, len(q)+len(r))
	for part, rows := range [][]float32{q, r} {
		base := part * len(q)
		for i := range len(rows) / dim {
			scaleRow(c.unit[base+i*dim:base+(i+1)*dim], rows[i*dim:(i+1)*dim],
				c.normsSq[base/dim+i], norm)
		}
	}
	return c.unit
}

// tileRows is the number of rows in a tile: a multiple of 16 such that a
// tile of dim floats per row takes about 64 KB, between 16 and 128 rows.
func tileRows(dim int) int {
	rows := (64 << 10) / (4 * dim)
	return max(16, min(128, rows&^15))
}

// stripRows is the height of the strips that a diagonal tile is cut into,
// so that it computes little more than its upper triangle.
const stripRows = 16

// pairwiseJob computes a symmetric distance matrix, one part per pair of
// tiles (I, J) with I <= J.
type pairwiseJob struct {
	dst, rows           []float32
	n, dim, tile, tiles int
	metric              Metric
}

func (j *pairwiseJob) Run(_, part int) {
	ti, tj := upperPair(part, j.tiles)
	i0, i1 := ti*j.tile, min((ti+1)*j.tile, j.n)
	j0, j1 := tj*j.tile, min((tj+1)*j.tile, j.n)
	if ti != tj {
		j.block(i0, i1, j0, j1)
		mirror(j.dst, j.n, i0, i1, j0, j1)
		return
	}
	for s0 := i0; s0 < i1; s0 += stripRows {
		s1 := min(s0+stripRows, i1)
		j.block(s0, s1, s0, i1)
		mirror(j.dst, j.n, s0, s1, s1, i1)
	}
}

// block computes rows [i0, i1) against rows [j0, j1) into dst.
func (j *pairwiseJob) block(i0, i1, j0, j1 int) {
	j.metric.Block(j.dst[i0*j.n+j0:], j.n, j.rows[i0*j.dim:i1*j.dim],
		j.rows[j0*j.dim:j1*j.dim], j.dim)
}

// upperPair returns the part-th pair (I, J) with I <= J < tiles, in the
// order (0,0), (0,1), …, (0,tiles-1), (1,1), ….
func upperPair(part, tiles int) (int, int) {
	i := 0
	for part >= tiles-i {
		part -= tiles - i
		i++
	}
	return i, i + part
}

// mirror copies block [i0,i1)×[j0,j1) of the n-column matrix dst to its
// transposed place.
func mirror(dst []float32, n, i0, i1, j0, j1 int) {
	if i1 > i0 && j1 > j0 {
		asm.Transpose(dst[j0*n+i0:], n, dst[i0*n+j0:], n, i1-i0, j1-j0)
	}
}

// crossJob computes a query-by-reference distance matrix, one part per
// (query tile, reference tile); parts that share a reference tile follow
// each other.
type crossJob struct {
	dst, q, r                       []float32
	n, m, dim, qTile, rTile, qTiles int
	metric                          Metric
}

func (j *crossJob) Run(_, part int) {
	qt, rt := part%j.qTiles, part/j.qTiles
	i0, i1 := qt*j.qTile, min((qt+1)*j.qTile, j.n)
	j0, j1 := rt*j.rTile, min((rt+1)*j.rTile, j.m)
	j.metric.Block(j.dst[i0*j.m+j0:], j.m, j.q[i0*j.dim:i1*j.dim], j.r[j0*j.dim:j1*j.dim],
		j.dim)
}
