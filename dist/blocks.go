package dist

import (
	"fmt"
	"math"

	"github.com/tripletmine/triplet/asm"
	"github.com/tripletmine/triplet/internal/scratch"
)

// The functions in this file let a caller compute a distance matrix one
// block at a time and reduce each block as it comes, instead of holding
// the whole matrix: mining a batch against millions of references does.
// Pairwise and Cross are built from the same pieces, so a block holds the
// same bits as the same entries of their matrices.

// Norms checks rows (row-major, dim values each) as Pairwise and Cross
// check their input, and returns the squared norm of each row in dst,
// which is reused if its capacity suffices. name says what the rows are in
// an error ("reference"). Errors are those of Pairwise.
func (c *Calculator) Norms(dst, rows []float32, dim int, name string) ([]float32, error) {
	if c.Metric < SquaredEuclidean || c.Metric > Cosine {
		return dst, fmt.Errorf("%w %v", ErrMetric, c.Metric)
	}
	if dim < 1 {
		return dst, fmt.Errorf("%w: dim %d < 1", ErrShape, dim)
	}
	if len(rows)%dim != 0 {
		return dst, fmt.Errorf("%w: %s rows have %d values, not a multiple of dim %d",
			ErrShape, name, len(rows), dim)
	}
	dst = scratch.Grow(dst, len(rows)/dim)
	return dst, c.checkRows(rows, dim, name, dst)
}

// KernelRows returns rows as the distance kernels of metric m see them,
// given their squared norms from Norms, and the scratch space to pass as
// buf next time. For the Euclidean metrics the kernel rows are rows
// themselves and buf comes back as it was; for cosine they are the rows
// scaled to norm 1/√2, whose squared distances are the cosine distances,
// written into buf (reused if its capacity suffices).
func (m Metric) KernelRows(buf, rows, normsSq []float32, dim int) (kernel, next []float32) {
	if m != Cosine {
		return rows, buf
	}
	buf = scratch.Grow(buf, len(rows))
	for i, normSq := range normsSq {
		scaleRow(buf[i*dim:(i+1)*dim], rows[i*dim:(i+1)*dim], normSq, math.Sqrt2/2)
	}
	return buf, buf
}

// scaleRow writes row scaled to the given norm into out, given its squared
// norm as Norms computed it.
func scaleRow(out, row []float32, normSq float32, norm float64) {
	clear(out)
	asm.AddScaled(out, float32(norm/math.Sqrt(float64(normSq))), row)
}

// Block writes into dst (rows ld apart) the distances of metric m between
// the kernel rows q and r (see KernelRows): row i holds q's row i against
// every row of r. Any block of Pairwise's or Cross's matrix holds the same
// bits as Block computes for its rows.
func (m Metric) Block(dst []float32, ld int, q, r []float32, dim int) {
	asm.SquaredDistances(dst, ld, q, r, dim)
	if m != Euclidean {
		return
	}
	cols := len(r) / dim
	for i := range len(q) / dim {
		asm.Sqrt(dst[i*ld : i*ld+cols])
	}
}

// AddKernelGrad adds to grad (rows of dim values, like rows) the gradient
// with respect to rows of a loss whose gradient with respect to their
// kernel rows (see KernelRows; kernel holds them) is g. For the Euclidean
// metrics that is g itself; for cosine, whose kernel row is u = x/(√2·||x||),
// it is (g - 2u(u·g))/(√2·||x||).
func (m Metric) AddKernelGrad(grad, g, kernel, normsSq []float32, dim int) {
	if m != Cosine {
		asm.AddScaled(grad, 1, g)
		return
	}
	for i, normSq := range normsSq {
		u := kernel[i*dim : (i+1)*dim]
		gi := g[i*dim : (i+1)*dim]
		var along float64
		for k := range u {
			along += float64(u[k]) * float64(gi[k])
		}
		scale := math.Sqrt2 / 2 / math.Sqrt(float64(normSq))
		out := grad[i*dim : (i+1)*dim]
		for k := range u {
			out[k] += float32((float64(gi[k]) - 2*along*float64(u[k])) * scale)
		}
	}
}
