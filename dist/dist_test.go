package dist_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tripletmine/triplet/asm"
	"github.com/tripletmine/triplet/dist"
	"github.com/tripletmine/triplet/internal/kerneltest"
)

var metrics = []dist.Metric{dist.SquaredEuclidean, dist.Euclidean, dist.Cosine}

const u = 0x1p-24 // float32's unit roundoff

// distanceTolerance bounds the error of a float32 distance against its
// float64 value want. Squared distances sum dim squares of rounded
// differences: within γ(dim+2)·want (Higham §3.1, all terms being
// non-negative). The square root halves that relative error and adds one
// rounding. Cosine distances are squared distances of rows rescaled in
// float32, whose lengths are off by about dim·u, which moves a distance by
// at most about 4·(dim+4)·u in absolute terms.
func distanceTolerance(m dist.Metric, dim int, want float64) float64 {
	g := float64(dim+2) * u / (1 - float64(dim+2)*u)
	switch m {
	case dist.Euclidean:
		return (g/2+2*u)*want + math.Sqrt(float64(dim+2)*0x1p-149)
	case dist.Cosine:
		return g*want + 4*float64(dim+4)*u
	}
	return g*want + float64(dim+2)*0x1p-149
}

// randomRows returns n rows of dim normal values around offset.
func randomRows(rng *rand.Rand, n, dim int, offset, scale float64) []float32 {
	e := make([]float32, n*dim)
	for k := range e {
		e[k] = float32(offset + scale*rng.NormFloat64())
	}
	return e
}

// checkMatrix fails t unless got is the n×m matrix of the metric between
// the rows of q and r within the error bound, and returns the worst error
// relative to each distance's tolerance.
func checkMatrix(t *testing.T, c *dist.Calculator, got, q, r []float32, dim int) float64 {
	t.Helper()
	qw, rw := widen(q), widen(r)
	n, m := len(q)/dim, len(r)/dim
	worst := 0.0
	for i := range n {
		for j := range m {
			want := refDistance(c.Metric, qw[i*dim:(i+1)*dim], rw[j*dim:(j+1)*dim])
			v := float64(got[i*m+j])
			tol := distanceTolerance(c.Metric, dim, want)
			if v < 0 || math.Abs(v-want) > tol {
				t.Fatalf("%v dim %d: d(%d,%d) = %g, want %g ± %g", c.Metric, dim, i, j, v, want, tol)
			}
			worst = max(worst, math.Abs(v-want)/tol)
		}
	}
	return worst
}

func TestPairwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	kerneltest.Run(t, func(t *testing.T, _ asm.Level) {
		for _, m := range metrics {
			c := &dist.Calculator{Metric: m}
			for _, n := range []int{1, 2, 5, 17, 130, 300} {
				for _, dim := range []int{1, 3, 16, 33, 128} {
					e := randomRows(rng, n, dim, 0.5, 1)
					copy(e[(n/2)*dim:(n/2+1)*dim], e[:dim])
					d, err := c.Pairwise(nil, e, dim)
					if err != nil {
						t.Fatal(err)
					}
					checkMatrix(t, c, d, e, e, dim)
					for i := range n {
						if d[i*n+i] != 0 {
							t.Fatalf("%v: diagonal %d is %v", m, i, d[i*n+i])
						}
						for j := range n {
							if math.Float32bits(d[i*n+j]) != math.Float32bits(d[j*n+i]) {
								t.Fatalf("%v: d(%d,%d) = %v, d(%d,%d) = %v", m, i, j, d[i*n+j],
									j, i, d[j*n+i])
							}
						}
					}
					if n > 2 && d[n/2] != 0 {
						t.Fatalf("%v: identical rows 0 and %d are %v apart", m, n/2, d[n/2])
					}
				}
			}
		}
	})
}

func TestCross(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	kerneltest.Run(t, func(t *testing.T, _ asm.Level) {
		for _, m := range metrics {
			c := &dist.Calculator{Metric: m}
			for _, shape := range [][3]int{{1, 1, 1}, {3, 700, 5}, {600, 7, 64}, {70, 300, 130}} {
				n, nr, dim := shape[0], shape[1], shape[2]
				q, r := randomRows(rng, n, dim, 0, 1), randomRows(rng, nr, dim, 0, 1)
				copy(r[:dim], q[:dim])
				d, err := c.Cross(nil, q, r, dim)
				if err != nil {
					t.Fatal(err)
				}
				checkMatrix(t, c, d, q, r, dim)
				if d[0] != 0 {
					t.Fatalf("%v: identical query and reference are %v apart", m, d[0])
				}
			}
		}
	})
}

// TestErrorBound checks the documented bound on random data at the
// dimensions embeddings use, and logs how close to it the results come.
func TestErrorBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	kerneltest.Run(t, func(t *testing.T, l asm.Level) {
		for _, m := range metrics {
			c := &dist.Calculator{Metric: m}
			for _, dim := range []int{1, 3, 64, 128, 512, 2048} {
				e := randomRows(rng, 40, dim, 0, 1)
				d, err := c.Pairwise(nil, e, dim)
				if err != nil {
					t.Fatal(err)
				}
				worst := checkMatrix(t, c, d, e, e, dim)
				t.Logf("%v %v dim %4d: worst error %.3f of the bound", l, m, dim, worst)
			}
		}
	})
}

// TestNearDuplicates checks rows of large norm that differ by little,
// where the expansion ||x||² + ||y||² - 2x·y would lose every digit: the
// difference form keeps the relative error near float32's.
func TestNearDuplicates(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	kerneltest.Run(t, func(t *testing.T, l asm.Level) {
		for _, m := range []dist.Metric{dist.SquaredEuclidean, dist.Euclidean} {
			c := &dist.Calculator{Metric: m}
			for _, dim := range []int{3, 128, 512} {
				const n = 20
				e := make([]float32, n*dim)
				base := randomRows(rng, 1, dim, 1e4, 1e3)
				for i := range n {
					for k := range dim {
						e[i*dim+k] = base[k] + float32(i%5)*0.5*float32(rng.NormFloat64())
					}
				}
				d, err := c.Pairwise(nil, e, dim)
				if err != nil {
					t.Fatal(err)
				}
				checkMatrix(t, c, d, e, e, dim)
				// The expansion ||x||² + ||y||² - 2x·y in float32, for comparison.
				gram := make([]float32, n*n)
				asm.InnerProducts(gram, n, e, e, dim)
				worst, worstGram := 0.0, 0.0
				ew := widen(e)
				for i := range n {
					for j := range n {
						want := refDistance(m, ew[i*dim:(i+1)*dim], ew[j*dim:(j+1)*dim])
						if want == 0 {
							continue
						}
						worst = max(worst, math.Abs(float64(d[i*n+j])-want)/want)
						expanded := float64(gram[i*n+i] + gram[j*n+j] - 2*gram[i*n+j])
						if m == dist.Euclidean {
							expanded = math.Sqrt(max(expanded, 0))
						}
						worstGram = max(worstGram, math.Abs(expanded-want)/want)
					}
				}
				t.Logf("%v %v dim %d, norms ~%.0e, distances ~%.0e: worst relative error "+
					"%.2e (the expanded form: %.2e)", l, m, dim, 1e4*math.Sqrt(float64(dim)),
					d[1], worst, worstGram)
			}
		}
	})
}

func TestWorkersGiveIdenticalBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	kerneltest.Run(t, func(t *testing.T, _ asm.Level) {
		for _, m := range metrics {
			e := randomRows(rng, 301, 40, 0, 1)
			r := randomRows(rng, 777, 40, 0, 1)
			g := randomRows(rng, 301, 301, 0, 1)
			var first [3][]float32
			for _, workers := range []int{1, 2, 3, 8} {
				c := &dist.Calculator{Metric: m, Workers: workers}
				d, err := c.Pairwise(nil, e, 40)
				if err != nil {
					t.Fatal(err)
				}
				x, err := c.Cross(nil, e, r, 40)
				if err != nil {
					t.Fatal(err)
				}
				grad := make([]float32, len(e))
				if err := c.PairwiseGrad(grad, e, 40, d, g); err != nil {
					t.Fatal(err)
				}
				got := [3][]float32{d, x, grad}
				if workers == 1 {
					first = got
					continue
				}
				for k := range got {
					if !slices.Equal(got[k], first[k]) {
						t.Fatalf("%v: result %d differs between 1 and %d workers", m, k, workers)
					}
				}
			}
		}
	})
}

// pairWeights returns an n×m dL/dD with a mix of zero, positive and
// negative weights.
func pairWeights(rng *rand.Rand, n, m int) []float32 {
	g := make([]float32, n*m)
	for k := range g {
		if rng.IntN(3) > 0 {
			g[k] = float32(rng.NormFloat64())
		}
	}
	return g
}

// gradTolerance bounds the error of a float32 gradient against its float64
// value: the products and sums run over about n+dim terms whose sizes the
// reference gradient's own terms bound, scale being Σ|w|·|∂d/∂x| per row.
func gradTolerance(n, dim int, scale float64) float64 {
	return 16 * float64(n+dim+8) * u * scale
}

// gradScale returns, per row of e, Σ_j (|w_ij| + |w_ji|)·max|∂d/∂x|, the
// size of the terms that the row's gradient sums.
func gradScale(m dist.Metric, q, r []float64, dim int, g []float64, rows bool) []float64 {
	n, nr := len(q)/dim, len(r)/dim
	scale := make([]float64, n)
	if !rows {
		scale = make([]float64, nr)
	}
	for i := range n {
		for j := range nr {
			x, y := q[i*dim:(i+1)*dim], r[j*dim:(j+1)*dim]
			part := make([]float64, dim)
			refDistanceGrad(m, x, y, 1, part)
			var size float64
			for k := range part {
				size = max(size, math.Abs(part[k]))
			}
			for k := range dim {
				size = max(size, math.Abs(x[k]-y[k]))
			}
			if m == dist.Cosine {
				size = max(size, 4/math.Sqrt(norm2(x)))
			}
			if rows {
				scale[i] += math.Abs(g[i*nr+j]) * size
			} else {
				scale[j] += math.Abs(g[i*nr+j]) * size
			}
		}
	}
	return scale
}

func norm2(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	return s
}

// checkGrad fails t unless got matches the float64 gradient want within
// the tolerance for each row's scale.
func checkGrad(t *testing.T, what string, got []float32, want, scale []float64, n, dim int) {
	t.Helper()
	for k := range got {
		tol := gradTolerance(n, dim, scale[k/dim]) + 1e-30
		if math.Abs(float64(got[k])-want[k]) > tol {
			t.Fatalf("%s: gradient of row %d, column %d = %g, want %g ± %g",
				what, k/dim, k%dim, got[k], want[k], tol)
		}
	}
}

func TestPairwiseGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	kerneltest.Run(t, func(t *testing.T, _ asm.Level) {
		for _, m := range metrics {
			c := &dist.Calculator{Metric: m}
			for _, shape := range [][2]int{{2, 1}, {7, 3}, {33, 17}, {150, 64}} {
				n, dim := shape[0], shape[1]
				e := randomRows(rng, n, dim, 3, 1)
				copy(e[dim*(n-1):], e[:dim])
				d, err := c.Pairwise(nil, e, dim)
				if err != nil {
					t.Fatal(err)
				}
				g := pairWeights(rng, n, n)
				ew, gw := widen(e), widen(g)
				want := refPairwiseGrad(m, ew, dim, gw)
				s1 := gradScale(m, ew, ew, dim, gw, true)
				s2 := gradScale(m, ew, ew, dim, gw, false)
				for i := range s1 {
					s1[i] += s2[i]
				}

				dense := make([]float32, n*dim)
				if err := c.PairwiseGrad(dense, e, dim, d, g); err != nil {
					t.Fatal(err)
				}
				checkGrad(t, fmt.Sprintf("%v dense %dx%d", m, n, dim), dense, want, s1, n, dim)

				var entries []dist.Entry
				for k, w := range g {
					if w != 0 {
						entries = append(entries, dist.Entry{Row: int32(k / n),
							Col: int32(k % n), Weight: w})
					}
				}
				sparse := make([]float32, n*dim)
				if err := c.PairwiseGradSparse(sparse, e, dim, entries); err != nil {
					t.Fatal(err)
				}
				checkGrad(t, fmt.Sprintf("%v sparse %dx%d", m, n, dim), sparse, want, s1, n, dim)
			}
		}
	})
}

func TestCrossGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	kerneltest.Run(t, func(t *testing.T, _ asm.Level) {
		for _, m := range metrics {
			c := &dist.Calculator{Metric: m}
			for _, shape := range [][3]int{{1, 1, 2}, {9, 40, 5}, {60, 23, 33}} {
				n, nr, dim := shape[0], shape[1], shape[2]
				q, r := randomRows(rng, n, dim, -2, 1), randomRows(rng, nr, dim, -2, 1)
				copy(r[:dim], q[:dim])
				d, err := c.Cross(nil, q, r, dim)
				if err != nil {
					t.Fatal(err)
				}
				g := pairWeights(rng, n, nr)
				qw, rw, gw := widen(q), widen(r), widen(g)
				wantQ, wantR := refCrossGrad(m, qw, rw, dim, gw)
				scaleQ := gradScale(m, qw, rw, dim, gw, true)
				scaleR := gradScale(m, qw, rw, dim, gw, false)

				var entries []dist.Entry
				for k, w := range g {
					if w != 0 {
						entries = append(entries, dist.Entry{Row: int32(k / nr),
							Col: int32(k % nr), Weight: w})
					}
				}
				for _, sparse := range []bool{false, true} {
					gq, gr := make([]float32, n*dim), make([]float32, nr*dim)
					if sparse {
						err = c.CrossGradSparse(gq, gr, q, r, dim, entries)
					} else {
						err = c.CrossGrad(gq, gr, q, r, dim, d, g)
					}
					if err != nil {
						t.Fatal(err)
					}
					what := fmt.Sprintf("%v sparse=%v %dx%dx%d", m, sparse, n, nr, dim)
					checkGrad(t, what+" queries", gq, wantQ, scaleQ, nr, dim)
					checkGrad(t, what+" references", gr, wantR, scaleR, n, dim)
				}
			}
		}
	})
}

// TestReferenceGradAgainstFiniteDifferences checks the float64 reference
// gradients, which judge the fast ones, against central differences of
// the reference loss.
func TestReferenceGradAgainstFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, m := range metrics {
		const n, dim = 6, 4
		e := widen(randomRows(rng, n, dim, 1, 1))
		g := widen(pairWeights(rng, n, n))
		want := refPairwiseGrad(m, e, dim, g)
		for k := range e {
			h := 1e-6 * max(1, math.Abs(e[k]))
			x := e[k]
			e[k] = x + h
			up := refLoss(m, e, e, dim, g)
			e[k] = x - h
			down := refLoss(m, e, e, dim, g)
			e[k] = x
			numeric := (up - down) / (2 * h)
			if math.Abs(numeric-want[k]) > 1e-6*max(1, math.Abs(numeric)) {
				t.Errorf("%v: ∂L/∂e[%d] = %g analytically, %g numerically", m, k, want[k], numeric)
			}
		}
	}
}

// TestEuclideanGradAtZero checks that identical rows, whose Euclidean
// distance has no derivative, contribute 0 and never NaN or Inf.
func TestEuclideanGradAtZero(t *testing.T) {
	kerneltest.Run(t, func(t *testing.T, _ asm.Level) {
		c := &dist.Calculator{Metric: dist.Euclidean}
		e := []float32{1, 2, 1, 2, 4, 6}
		d, err := c.Pairwise(nil, e, 2)
		if err != nil {
			t.Fatal(err)
		}
		g := []float32{0, 5, 0, 5, 0, 0, 0, 0, 0}
		dense := make([]float32, 6)
		if err := c.PairwiseGrad(dense, e, 2, d, g); err != nil {
			t.Fatal(err)
		}
		sparse := make([]float32, 6)
		entries := []dist.Entry{{Row: 0, Col: 1, Weight: 5}, {Row: 1, Col: 0, Weight: 5}}
		if err := c.PairwiseGradSparse(sparse, e, 2, entries); err != nil {
			t.Fatal(err)
		}
		for k := range dense {
			if dense[k] != 0 || sparse[k] != 0 {
				t.Fatalf("gradient at distance 0: dense %v, sparse %v; want zeros", dense, sparse)
			}
		}
	})
}

func TestBadInput(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	cases := []struct {
		name   string
		metric dist.Metric
		e      []float32
		dim    int
		want   error
	}{
		{"dim 0", dist.SquaredEuclidean, []float32{1, 2}, 0, dist.ErrShape},
		{"ragged", dist.SquaredEuclidean, []float32{1, 2, 3}, 2, dist.ErrShape},
		{"NaN", dist.SquaredEuclidean, []float32{1, 2, 3, nan}, 2, dist.ErrNotFinite},
		{"Inf", dist.Euclidean, []float32{inf, 2, 3, 4}, 2, dist.ErrNotFinite},
		{"zero norm", dist.Cosine, []float32{1, 2, 0, 0}, 2, dist.ErrZeroNorm},
		{"too large", dist.SquaredEuclidean, []float32{1e19, 0, 0, 0}, 2, dist.ErrTooLarge},
		{"unknown metric", dist.Metric(7), []float32{1, 2}, 2, dist.ErrMetric},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &dist.Calculator{Metric: tc.metric}
			dst := []float32{42, 42, 42, 42}
			in := slices.Clone(tc.e)
			_, err := c.Pairwise(dst, tc.e, tc.dim)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			t.Log(err)
			if !slices.Equal(dst, []float32{42, 42, 42, 42}) {
				t.Errorf("dst changed to %v", dst)
			}
			if !slices.EqualFunc(in, tc.e, func(a, b float32) bool {
				return math.Float32bits(a) == math.Float32bits(b)
			}) {
				t.Errorf("input changed")
			}
			grad := []float32{7, 7, 7, 7}
			err = c.PairwiseGrad(grad, tc.e, tc.dim, make([]float32, 4), make([]float32, 4))
			if err == nil || !slices.Equal(grad, []float32{7, 7, 7, 7}) {
				t.Errorf("PairwiseGrad: error %v, gradient %v", err, grad)
			}
		})
	}

	c := &dist.Calculator{}
	e := []float32{1, 2, 3, 4}
	grad := []float32{7, 7, 7, 7}
	g := []float32{0, float32(math.Inf(1)), 0, 0}
	if err := c.PairwiseGrad(grad, e, 2, nil, g); !errors.Is(err, dist.ErrNotFinite) {
		t.Errorf("infinite dL/dD: error %v", err)
	}
	if err := c.PairwiseGrad(grad, e, 2, nil, g[:3]); !errors.Is(err, dist.ErrShape) {
		t.Errorf("short dL/dD: error %v", err)
	}
	bad := []dist.Entry{{Row: 0, Col: 2, Weight: 1}}
	if err := c.PairwiseGradSparse(grad, e, 2, bad); !errors.Is(err, dist.ErrShape) {
		t.Errorf("entry outside the matrix: error %v", err)
	}
	if !slices.Equal(grad, []float32{7, 7, 7, 7}) {
		t.Errorf("gradient changed to %v", grad)
	}
}

// TestNoAllocationInSteadyState checks that calls with the shapes of an
// earlier one reuse the Calculator's scratch and the caller's buffers.
func TestNoAllocationInSteadyState(t *testing.T) {
	if kerneltest.Race {
		t.Skip("the race detector's instrumentation allocates; counted in normal builds")
	}
	rng := rand.New(rand.NewPCG(17, 18))
	for _, m := range metrics {
		c := &dist.Calculator{Metric: m, Workers: 2}
		e, r := randomRows(rng, 200, 32, 0, 1), randomRows(rng, 300, 32, 0, 1)
		g, gx := pairWeights(rng, 200, 200), pairWeights(rng, 200, 300)
		entries := []dist.Entry{{Row: 1, Col: 2, Weight: 1}, {Row: 3, Col: 0, Weight: -2}}
		d, _ := c.Pairwise(nil, e, 32)
		x, _ := c.Cross(nil, e, r, 32)
		gq, gr := make([]float32, len(e)), make([]float32, len(r))
		run := func() {
			d, _ = c.Pairwise(d, e, 32)
			x, _ = c.Cross(x, e, r, 32)
			_ = c.PairwiseGrad(gq, e, 32, d, g)
			_ = c.CrossGrad(gq, gr, e, r, 32, x, gx)
			_ = c.PairwiseGradSparse(gq, e, 32, entries)
			_ = c.CrossGradSparse(gq, gr, e, r, 32, entries)
		}
		run()
		if allocs := testing.AllocsPerRun(5, run); allocs != 0 {
			t.Errorf("%v: %v allocations per round of calls", m, allocs)
		}
	}
}

func TestParseMetric(t *testing.T) {
	for _, m := range metrics {
		if got, err := dist.ParseMetric(m.String()); err != nil || got != m {
			t.Errorf("ParseMetric(%q) = %v, %v", m.String(), got, err)
		}
	}
	if _, err := dist.ParseMetric("manhattan"); !errors.Is(err, dist.ErrMetric) {
		t.Errorf("ParseMetric(manhattan): %v", err)
	}
}

func BenchmarkPairwise(b *testing.B) {
	for _, m := range metrics {
		b.Run("metric="+m.String(), func(b *testing.B) {
			kerneltest.Bench(b, func(b *testing.B) {
				benchmarkMatrix(b, m, false)
			})
		})
	}
}

func BenchmarkCross(b *testing.B) {
	for _, m := range metrics {
		b.Run("metric="+m.String(), func(b *testing.B) {
			kerneltest.Bench(b, func(b *testing.B) {
				benchmarkMatrix(b, m, true)
			})
		})
	}
}

// benchmarkMatrix times distance matrices with the default worker count:
// n×n pairwise, or n queries against m references, counting 2·n·m·d flops
// per call as a matrix product would, although the pairwise matrix
// computes only half of its pairs.
func benchmarkMatrix(b *testing.B, metric dist.Metric, cross bool) {
	type shape struct{ n, m, dim int }
	var shapes []shape
	for _, n := range []int{256, 1024, 4096} {
		for _, dim := range []int{64, 128, 512} {
			shapes = append(shapes, shape{n, n, dim})
		}
	}
	if cross {
		shapes = append(shapes, shape{512, 65536, 128})
	}
	for _, s := range shapes {
		n, m, dim := s.n, s.m, s.dim
		name := fmt.Sprintf("n=%d/d=%d", n, dim)
		if cross {
			name = fmt.Sprintf("n=%d/m=%d/d=%d", n, m, dim)
		}
		b.Run(name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 1))
			e, r := randomRows(rng, n, dim, 0, 1), randomRows(rng, m, dim, 0, 1)
			c := &dist.Calculator{Metric: metric}
			dst := make([]float32, n*m)
			for b.Loop() {
				var err error
				if cross {
					_, err = c.Cross(dst, e, r, dim)
				} else {
					_, err = c.Pairwise(dst, e, dim)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			flops := 2 * float64(n) * float64(m) * float64(dim)
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// TestEuclideanGradNearDuplicates checks rows whose Euclidean distance is
// tiny next to their spread: the weights dL/dD / (2d) are huge there, and
// the dense gradients must hand those pairs to the sparse form, whose
// error stays near float32's relative to Σ|dL/dD|.
func TestEuclideanGradNearDuplicates(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	kerneltest.Run(t, func(t *testing.T, _ asm.Level) {
		c := &dist.Calculator{Metric: dist.Euclidean}

		// Rows 0-5 lie within 1e-4 of each other, rows 6-11 about 11 away.
		const n, dim = 12, 3
		e := make([]float32, n*dim)
		for i := range n {
			for k := range dim {
				if i < 6 {
					e[i*dim+k] = float32(rng.NormFloat64() * 3e-5)
				} else {
					e[i*dim+k] = 11 + float32(rng.NormFloat64())
				}
			}
		}
		q := e[:dim]
		ew, qw := widen(e), widen(q)

		d, err := c.Pairwise(nil, e, dim)
		if err != nil {
			t.Fatal(err)
		}
		g := pairWeights(rng, n, n)
		grad := make([]float32, n*dim)
		if err := c.PairwiseGrad(grad, e, dim, d, g); err != nil {
			t.Fatal(err)
		}
		checkNear(t, "pairwise", grad, refPairwiseGrad(dist.Euclidean, ew, dim, widen(g)), g)

		x, err := c.Cross(nil, q, e, dim)
		if err != nil {
			t.Fatal(err)
		}
		gx := g[:n]
		gq, gr := make([]float32, dim), make([]float32, n*dim)
		if err := c.CrossGrad(gq, gr, q, e, dim, x, gx); err != nil {
			t.Fatal(err)
		}
		wantQ, wantR := refCrossGrad(dist.Euclidean, qw, ew, dim, widen(gx))
		checkNear(t, "cross queries", gq, wantQ, gx)
		checkNear(t, "cross references", gr, wantR, gx)
	})
}

// checkNear fails t unless got is within 1e-5·Σ|g| of want.
func checkNear(t *testing.T, what string, got []float32, want []float64, g []float32) {
	t.Helper()
	var total float64
	for _, w := range g {
		total += math.Abs(float64(w))
	}
	for k := range got {
		if diff := math.Abs(float64(got[k]) - want[k]); diff > 1e-5*total {
			t.Fatalf("%s: gradient %d = %v, want %v (off by %.2g·Σ|w|)", what, k, got[k],
				want[k], diff/total)
		}
	}
}
