package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/mat"

	"github.com/tripletmine/triplet/dist"
)

// recallAt1 returns the fraction of the rows of emb (dim values each)
// whose nearest other row, under calc's distance, has the same label.
// Ties go to the lowest index, as in the library.
func recallAt1(calc *dist.Calculator, emb []float32, dim int, labels []int32) (float64,
	error) {

	d, err := calc.Pairwise(nil, emb, dim)
	if err != nil {
		return 0, err
	}
	n := len(labels)
	hits := 0
	for i := range n {
		row := d[i*n : (i+1)*n]
		nearest := -1
		for j, dj := range row {
			if j != i && (nearest < 0 || dj < row[nearest]) {
				nearest = j
			}
		}
		if labels[nearest] == labels[i] {
			hits++
		}
	}
	return float64(hits) / float64(n), nil
}

// embed returns the embeddings of all the images of d under m.
func embed(m *model, d dataset) []float32 {
	emb := make([]float32, d.len()*m.out)
	m.forward(&pass{}, d.images, d.len(), emb)
	return emb
}

// A projection maps images linearly to dims values: y = W·(x - centre).
type projection struct {
	dims   int
	centre []float64 // pixels values
	w      []float64 // dims rows of pixels values
}

// apply projects every image of d.
func (p projection) apply(d dataset) []float32 {
	out := make([]float32, d.len()*p.dims)
	for i := range d.len() {
		x := d.image(i)
		for r := range p.dims {
			var sum float64
			for k, w := range p.w[r*pixels : (r+1)*pixels] {
				sum += w * (float64(x[k]) - p.centre[k])
			}
			out[i*p.dims+r] = float32(sum)
		}
	}
	return out
}

// randomProjection draws W from N(0, 1/dims), the Johnson-Lindenstrauss
// scaling; the scale does not change nearest neighbours.
func randomProjection(dims int, rng *rand.Rand) projection {
	p := projection{dims: dims, centre: make([]float64, pixels), w: make([]float64, dims*pixels)}
	for i := range p.w {
		p.w[i] = rng.NormFloat64() / math.Sqrt(float64(dims))
	}
	return p
}

// pca returns the projection of d onto the dims directions of largest
// variance: the eigenvectors of the covariance matrix of its images with
// the largest eigenvalues.
func pca(d dataset, dims int) (projection, error) {
	n := d.len()
	p := projection{dims: dims, centre: make([]float64, pixels), w: make([]float64, dims*pixels)}
	for i := range n {
		for k, v := range d.image(i) {
			p.centre[k] += float64(v) / float64(n)
		}
	}

	cov := mat.NewSymDense(pixels, nil)
	for i := range n {
		x := d.image(i)
		for a := range pixels {
			da := float64(x[a]) - p.centre[a]
			for b := a; b < pixels; b++ {
				cov.SetSym(a, b, cov.At(a, b)+da*(float64(x[b])-p.centre[b])/float64(n-1))
			}
		}
	}

	var eig mat.EigenSym
	if !eig.Factorize(cov, true) {
		return projection{}, fmt.Errorf("the covariance's eigendecomposition failed")
	}
	values := eig.Values(nil)
	var vectors mat.Dense
	eig.VectorsTo(&vectors)
	order := make([]int, pixels)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return values[order[a]] > values[order[b]] })
	for r, col := range order[:dims] {
		for k := range pixels {
			p.w[r*pixels+k] = vectors.At(k, col)
		}
	}
	return p, nil
}
