package triplet_test

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tripletmine/triplet"
	"github.com/tripletmine/triplet/asm"
	"github.com/tripletmine/triplet/dist"
	"github.com/tripletmine/triplet/internal/fullmatrix"
	"github.com/tripletmine/triplet/internal/kerneltest"
	"github.com/tripletmine/triplet/mining"
)

// fuzzInput hands out the fuzzer's bytes as small shape numbers and as
// float32 bit patterns, so that zeros, ties, subnormals and extreme
// magnitudes all occur. When the bytes run out it keeps returning zeros.
type fuzzInput struct{ data []byte }

func (in *fuzzInput) byte() int {
	if len(in.data) == 0 {
		return 0
	}
	b := in.data[0]
	in.data = in.data[1:]
	return int(b)
}

// float returns a finite float32 from the next four bytes: the public API
// rejects NaN and ±Inf, so the kernels need not handle them, and a
// non-finite pattern is folded into a finite one by clearing an exponent
// bit.
func (in *fuzzInput) float() float32 {
	var b [4]byte
	n := copy(b[:], in.data)
	in.data = in.data[n:]
	bits := binary.LittleEndian.Uint32(b[:])
	if bits&0x7f800000 == 0x7f800000 {
		bits &^= 0x00800000
	}
	return math.Float32frombits(bits)
}

// floats fills n floats at offset in a fresh fenced buffer.
func (in *fuzzInput) floats(n, offset int) []float32 {
	s, _ := kerneltest.Fenced(n, offset)
	for i := range s {
		s[i] = in.float()
	}
	return s
}

// FuzzPairs compares SquaredDistances, InnerProducts and RowDots at every
// level with the float64 value of each pair, within the float32 error
// bound of summing dim terms. Pairs whose terms could overflow float32 in
// some order of summation are left out: their value depends on the order.
// Up to 140 reference rows and 300 dimensions take the distance kernels
// through several panels of whole vectors and a partial last vector.
func FuzzPairs(f *testing.F) {
	f.Add([]byte{3, 5, 17, 0, 0, 0})
	f.Add([]byte{4, 4, 16, 1, 2, 3, 0x00, 0x00, 0x80, 0x3f})
	f.Add([]byte{1, 9, 33, 15, 7, 0, 0xff, 0xff, 0x7f, 0x7f, 0x01, 0, 0, 0})
	f.Add([]byte{7, 133, 40, 1, 1, 1, 0x00, 0x00, 0x80, 0x3f})
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &fuzzInput{data}
		nq, nr, dim := in.byte()%10, in.byte()%141, 1+in.byte()%70
		if in.byte()%4 == 0 {
			dim += 230
		}
		q := in.floats(nq*dim, in.byte()%16)
		r := in.floats(nr*dim, in.byte()%16)
		if in.byte()%2 == 0 && nq > 0 && nr > 0 {
			copy(r[:dim], q[:dim])
		}

		for _, l := range asm.Levels() {
			restore := kerneltest.Force(t, l)
			for _, sq := range []bool{true, false} {
				dst := make([]float32, nq*nr)
				if sq {
					asm.SquaredDistances(dst, nr, q, r, dim)
				} else {
					asm.InnerProducts(dst, nr, q, r, dim)
				}
				checkFuzzPairs(t, l, sq, dst, q, r, dim)
			}

			rows := min(nq, nr)
			dots := make([]float32, rows)
			asm.RowDots(dots, q, dim, r, dim, dim)
			for i, got := range dots {
				checkFuzzPair(t, l, "RowDots", false, got, q[i*dim:], r[i*dim:], dim, i, i)
			}
			if nr > 0 {
				asm.RowDots(dots, q, dim, r, 0, dim)
				for i, got := range dots {
					checkFuzzPair(t, l, "RowDots, one row b", false, got, q[i*dim:], r, dim, i, 0)
				}
			}
			restore()
		}
	})
}

func checkFuzzPairs(t *testing.T, l asm.Level, sq bool, dst, q, r []float32, dim int) {
	what := "InnerProducts"
	if sq {
		what = "SquaredDistances"
	}
	nr := len(r) / dim
	for i := range len(q) / dim {
		for j := range nr {
			checkFuzzPair(t, l, what, sq, dst[i*nr+j], q[i*dim:], r[j*dim:], dim, i, j)
		}
	}
}

// checkFuzzPair fails t unless got is the squared distance (sq) or the
// inner product of the first dim floats of x and y within the float32
// summation bound, or exactly 0 for the distance of equal rows.
func checkFuzzPair(t *testing.T, l asm.Level, what string, sq bool, got float32,
	x, y []float32, dim, i, j int) {

	t.Helper()
	const u = 0x1p-24
	var exact, absSum float64
	for k := range dim {
		a, b := float64(x[k]), float64(y[k])
		term := a * b
		if sq {
			term = (a - b) * (a - b)
		}
		exact += term
		absSum += math.Abs(term)
	}
	if absSum > math.MaxFloat32/4 {
		return
	}
	m := float64(dim + 2)
	tol := m*u/(1-m*u)*absSum + m*0x1p-149
	if math.Abs(float64(got)-exact) > tol || (sq && exact == 0 && got != 0) {
		t.Fatalf("%v %s dim %d pair (%d,%d): got %g, want %g ± %g",
			l, what, dim, i, j, got, exact, tol)
	}
}

// FuzzReductions compares the masked reductions over a distance row at
// every level with the Go reference (the generic level). Selections
// involve no arithmetic, so indices and values must match exactly; the
// hinge sum adds exact float64 differences in another order, so it must
// match within n·2⁻⁵²·Σ|term|.
func FuzzReductions(f *testing.F) {
	f.Add([]byte{17, 0, 3, 1, 5})
	f.Add([]byte{40, 1, 2, 20, 9, 0, 0, 0x80, 0x3f, 0, 0, 0x80, 0x3f})
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &fuzzInput{data}
		n := in.byte() + in.byte()%2*256
		classes := 1 + in.byte()%4
		label := int32(in.byte() % classes)
		self := in.byte() - 1
		threshold := in.float()
		labels := make([]int32, n)
		for j := range labels {
			labels[j] = int32(in.byte() % classes)
		}
		row := in.floats(n, in.byte()%16)

		type result struct {
			pos, neg, semi int
			posV, negV     float32
			semiV          float32
			sum            float64
			count          int
		}
		run := func() result {
			var r result
			r.pos, r.posV = asm.HardestPositive(row, labels, label, self)
			r.neg, r.negV = asm.HardestNegative(row, labels, label, self)
			r.semi, r.semiV = asm.SemiHardNegative(row, labels, label, self, threshold)
			r.sum, r.count = asm.HingeSum(row, labels, label, self, threshold)
			return r
		}

		restore := kerneltest.Force(t, asm.Generic)
		want := run()
		restore()
		var absSum float64
		for j, v := range row {
			if labels[j] != label && j != self && v < threshold {
				absSum += float64(threshold) - float64(v)
			}
		}
		for _, l := range asm.Levels()[1:] {
			restore := kerneltest.Force(t, l)
			got := run()
			restore()
			tol := float64(n) * 0x1p-52 * absSum
			if math.Abs(got.sum-want.sum) <= tol {
				got.sum = want.sum
			}
			if got != want {
				t.Fatalf("%v: got %+v, want %+v", l, got, want)
			}
		}
	})
}

// smallFloat returns a finite float32 from the next four bytes, folded to
// at most 1e8 in magnitude so that distances stay far from overflow: a
// larger pattern becomes a small multiple of 1/8, which also makes ties.
func (in *fuzzInput) smallFloat() float32 {
	v := in.float()
	if math.Abs(float64(v)) > 1e8 {
		v = float32(int8(math.Float32bits(v))) / 8
	}
	return v
}

// FuzzDistances compares the distance matrices of package dist (pairwise
// and cross) and their backward passes (dense and sparse) at every level
// with the generic level, for every metric and worker counts 1 and 3.
// Distances must agree within twice the float32 summation bound and
// errors must agree; gradients within 1e-3 of their largest magnitude
// (package dist's tests hold each level to the float64 reference more
// tightly).
func FuzzDistances(f *testing.F) {
	f.Add([]byte{5, 3, 4, 0, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add([]byte{9, 9, 17, 1, 0x80, 0x3f, 0, 0, 0, 0, 0x80, 0x3f})
	f.Add([]byte{2, 7, 33, 2, 0xff, 0xff, 0x7f, 0x7f, 0, 0, 0, 0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &fuzzInput{data}
		n, m, dim := 1+in.byte()%12, 1+in.byte()%12, 1+in.byte()%40
		metric := dist.Metric(in.byte() % 3)
		q, r := make([]float32, n*dim), make([]float32, m*dim)
		for k := range q {
			q[k] = in.smallFloat()
		}
		for k := range r {
			r[k] = in.smallFloat()
		}
		g := make([]float32, n*m)
		gp := make([]float32, n*n)
		for k := range g {
			g[k] = float32(int8(in.byte())) / 16
		}
		for k := range gp {
			gp[k] = float32(int8(in.byte())) / 16
		}
		var entries []dist.Entry
		for k, w := range g {
			if w != 0 {
				entries = append(entries, dist.Entry{Row: int32(k / m), Col: int32(k % m), Weight: w})
			}
		}

		type outcome struct {
			pairwise, cross, gradP, gradQ, gradR, sparseQ []float32
			err                                           string
		}
		run := func(workers int) outcome {
			c := &dist.Calculator{Metric: metric, Workers: workers}
			var o outcome
			var err error
			if o.pairwise, err = c.Pairwise(nil, q, dim); err != nil {
				return outcome{err: err.Error()}
			}
			if o.cross, err = c.Cross(nil, q, r, dim); err != nil {
				return outcome{err: err.Error()}
			}
			o.gradP = make([]float32, n*dim)
			o.gradQ, o.gradR = make([]float32, n*dim), make([]float32, m*dim)
			o.sparseQ = make([]float32, n*dim)
			for _, e := range []error{
				c.PairwiseGrad(o.gradP, q, dim, o.pairwise, gp),
				c.CrossGrad(o.gradQ, o.gradR, q, r, dim, o.cross, g),
				c.CrossGradSparse(o.sparseQ, nil, q, r, dim, entries),
			} {
				if e != nil {
					return outcome{err: e.Error()}
				}
			}
			return o
		}

		restore := kerneltest.Force(t, asm.Generic)
		want := run(1)
		restore()
		u := float64(dim+2) * 0x1p-24
		for _, l := range asm.Levels() {
			restore := kerneltest.Force(t, l)
			for _, workers := range []int{1, 3} {
				got := run(workers)
				if got.err != want.err {
					t.Fatalf("%v %v: error %q, generic %q", l, metric, got.err, want.err)
				}
				// Squared distances are within twice the summation bound of
				// each other; square roots add an absolute term for subnormal
				// sums; cosine distances one for rescaling the rows.
				abs := 1e-30
				switch metric {
				case dist.Euclidean:
					abs = 1e-20
				case dist.Cosine:
					abs = 8 * float64(dim+4) * 0x1p-24
				}
				for k := range got.pairwise {
					closeTo(t, "pairwise", l, got.pairwise[k], want.pairwise[k], 4*u, abs)
				}
				for k := range got.cross {
					closeTo(t, "cross", l, got.cross[k], want.cross[k], 4*u, abs)
				}
				both, own := meanRow(dim, q, r), meanRow(dim, q)
				scaleQ := gradScales(metric, q, r, g, dim, false, both)
				scaleR := gradScales(metric, r, q, g, dim, true, both)
				scaleP := gradScales(metric, q, q, gp, dim, false, own)
				for i, s := range gradScales(metric, q, q, gp, dim, true, own) {
					scaleP[i] += s
				}
				for _, c := range []struct {
					name      string
					got, want []float32
					scale     []float64
				}{
					{"pairwise gradient", got.gradP, want.gradP, scaleP},
					{"query gradient", got.gradQ, want.gradQ, scaleQ},
					{"reference gradient", got.gradR, want.gradR, scaleR},
					{"sparse gradient", got.sparseQ, want.sparseQ, scaleQ},
				} {
					for k := range c.got {
						closeTo(t, c.name, l, c.got[k], c.want[k], 0, 1e-3*c.scale[k/dim]+1e-30)
					}
				}
			}
			restore()
		}
	})
}

// gradScales bounds, for each row x_i of xs, the size of what its
// gradient sums: Σ_j |w_ij|·b(x_i, y_j), with w the n×m weights
// (transposed, m×n, when transposed is set). The dense gradients are
// matrix products on rows minus their mean μ, so their rounding follows
// the centred coordinates: b is 2·(max|x-μ| + max|y-μ|) for the squared
// Euclidean metric; for the Euclidean one, 1 plus that spread over the
// pair's distance, which the sparse hand-off caps near 64; for cosine,
// 2/||x||.
func gradScales(metric dist.Metric, xs, ys, w []float32, dim int, transposed bool,
	mean []float64) []float64 {

	nx, ny := len(xs)/dim, len(ys)/dim
	scales := make([]float64, nx)
	for i := range nx {
		x := xs[i*dim : (i+1)*dim]
		for j := range ny {
			y := ys[j*dim : (j+1)*dim]
			weight := w[i*ny+j]
			if transposed {
				weight = w[j*nx+i]
			}
			spread := centredMax(x, mean) + centredMax(y, mean)
			var bound float64
			switch metric {
			case dist.SquaredEuclidean:
				bound = 2 * spread
			case dist.Euclidean:
				var sq float64
				for k := range x {
					sq += (float64(x[k]) - float64(y[k])) * (float64(x[k]) - float64(y[k]))
				}
				bound = 1
				if sq > 0 {
					bound += min(128, spread/math.Sqrt(sq))
				}
			case dist.Cosine:
				var sq float64
				for _, v := range x {
					sq += float64(v) * float64(v)
				}
				bound = 2 / math.Sqrt(sq)
			}
			scales[i] += math.Abs(float64(weight)) * bound
		}
	}
	return scales
}

// meanRow returns the mean of the rows of the given matrices.
func meanRow(dim int, matrices ...[]float32) []float64 {
	mean := make([]float64, dim)
	rows := 0
	for _, m := range matrices {
		for k, v := range m {
			mean[k%dim] += float64(v)
		}
		rows += len(m) / dim
	}
	for k := range mean {
		mean[k] /= float64(rows)
	}
	return mean
}

// centredMax returns the largest |x_k - mean_k|.
func centredMax(x []float32, mean []float64) float64 {
	var m float64
	for k, v := range x {
		m = max(m, math.Abs(float64(v)-mean[k]))
	}
	return m
}

// closeTo fails t unless got is within rel·|want| + abs of want.
func closeTo(t *testing.T, what string, l asm.Level, got, want float32, rel, abs float64) {
	t.Helper()
	if d := math.Abs(float64(got) - float64(want)); d > rel*math.Abs(float64(want))+abs ||
		math.IsNaN(float64(got)) {
		t.Fatalf("%s at %v: %v, generic level %v", what, l, got, want)
	}
}

// FuzzMiner runs fuzzer-chosen batches (shapes, labels, values, strategy,
// metric, margin, soft margin, normalisation) through triplet.Miner at
// every level and compares with the generic level and with the float64
// loss of the generic level's selections. Batches where two candidate
// distances of an anchor, or a triplet's z and the hinge's kink, lie
// within rounding of each other may legitimately select or count
// differently across levels; for those only finiteness and agreement on
// errors are required.
func FuzzMiner(f *testing.F) {
	f.Add([]byte{6, 1, 3, 0, 1, 8, 0, 0, 1, 1, 0, 2})
	f.Add([]byte{12, 3, 2, 1, 2, 5, 1, 1, 7, 3, 9, 4, 1, 0, 3, 3})
	f.Add([]byte{9, 2, 4, 2, 0, 10, 2, 0xff, 0, 0x80, 0x3f, 7, 7})
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &fuzzInput{data}
		n, dim, classes := 2+in.byte()%22, 1+in.byte()%8, 1+in.byte()%5
		cfg := triplet.Config{
			Strategy:   triplet.Strategy(in.byte() % 3),
			Metric:     triplet.Metric(in.byte() % 3),
			Margin:     float32(in.byte()%9) / 4,
			SoftMargin: in.byte()%4 == 0,
			Normalize:  in.byte()%3 == 0,
		}
		labels := make([]int32, n)
		for i := range labels {
			labels[i] = int32(in.byte() % classes)
		}
		e := make([]float32, n*dim)
		for k := range e {
			e[k] = in.smallFloat()
		}

		type outcome struct {
			loss     float64
			triplets []triplet.Triplet
			grad     []float32
			err      error
		}
		run := func() outcome {
			m, err := triplet.NewMiner(cfg)
			if err != nil {
				t.Fatal(err)
			}
			o := outcome{grad: make([]float32, len(e))}
			r, err := m.Mine(e, dim, labels, o.grad)
			if err != nil {
				return outcome{err: err}
			}
			o.loss, o.triplets = r.Loss, slices.Clone(r.Triplets)
			return o
		}
		restore := kerneltest.Force(t, asm.Generic)
		want := run()
		restore()

		ambiguous := want.err != nil || nearTie(cfg, e, dim, labels)
		if !ambiguous && cfg.Strategy != triplet.BatchAll {
			ref := ref64{cfg, dim}
			e64 := make([]float64, len(e))
			for k, v := range e {
				e64[k] = float64(v)
			}
			divisor := float64(len(want.triplets))
			refLoss := ref.loss(e64, want.triplets, max(divisor, 1))
			if math.Abs(refLoss-want.loss) > 1e-3*max(1, math.Abs(refLoss)) {
				t.Fatalf("%+v: generic loss %v, float64 loss of its selections %v",
					cfg, want.loss, refLoss)
			}
		}
		for _, l := range asm.Levels()[1:] {
			restore := kerneltest.Force(t, l)
			got := run()
			restore()
			if (got.err == nil) != (want.err == nil) {
				t.Fatalf("%+v at %v: error %v, generic %v", cfg, l, got.err, want.err)
			}
			if got.err != nil {
				continue
			}
			if math.IsNaN(got.loss) || math.IsInf(got.loss, 0) {
				t.Fatalf("%+v at %v: loss %v", cfg, l, got.loss)
			}
			if ambiguous {
				continue
			}
			if math.Abs(got.loss-want.loss) > 1e-3*max(1, math.Abs(want.loss)) {
				t.Fatalf("%+v at %v: loss %v, generic %v", cfg, l, got.loss, want.loss)
			}
			if !slices.Equal(got.triplets, want.triplets) {
				t.Fatalf("%+v at %v: triplets %v, generic %v", cfg, l, got.triplets,
					want.triplets)
			}
			scale := 0.0
			for _, v := range want.grad {
				scale = max(scale, math.Abs(float64(v)))
			}
			for k := range got.grad {
				closeTo(t, "gradient", l, got.grad[k], want.grad[k], 0, 1e-2*scale+1e-30)
			}
		}
	})
}

// nearTie reports whether two distances of an anchor's row, or a triplet's
// z = d(a,p) - d(a,n) + margin and 0, lie within 1e-3 of the row's largest
// distance of each other: float32 levels may then order or count them
// differently.
func nearTie(cfg triplet.Config, e []float32, dim int, labels []int32) bool {
	ref := ref64{cfg, dim}
	n := len(labels)
	row := func(i int) []float64 {
		x := make([]float64, dim)
		for k := range x {
			x[k] = float64(e[i*dim+k])
		}
		return x
	}
	for a := range n {
		d := make([]float64, n)
		scale := 1e-30
		for j := range n {
			d[j] = ref.distance(row(a), row(j))
			scale = max(scale, math.Abs(d[j]))
		}
		tol := 1e-3*scale + float64(cfg.Margin)*1e-4
		for j := range n {
			for k := range n {
				if j != k && j != a && k != a && math.Abs(d[j]-d[k]) < tol {
					return true
				}
				same := labels[j] == labels[a] && labels[k] != labels[a]
				if same && j != a && math.Abs(d[j]-d[k]+float64(cfg.Margin)) < tol {
					return true
				}
			}
		}
	}
	return false
}

// FuzzMineRefs mines a batch against references by streaming, through
// the facade, at every level and with 1 and 2 workers, and compares it
// with the definitions applied to the full matrix at the same level: the
// same triplets and counts, the loss within 1e-6 of its magnitude and the
// gradient within 1e-3 of its largest value. The batch rows come from the
// fuzzer's bytes (any magnitude); the references from a generator seeded
// by them, on a grid of quarters so that distances tie, some of them
// copies of batch rows and some sharing a batch row's id.
func FuzzMineRefs(f *testing.F) {
	f.Add([]byte{0, 0, 5, 40, 1, 4, 3, 7})
	f.Add([]byte{1, 7, 9, 0x2c, 0x01, 3, 2, 1, 0, 0, 0x80, 0x3f})
	f.Add([]byte{2, 14, 12, 0xbc, 0x02, 17, 5, 9, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add([]byte{5, 3, 1, 0, 0, 2, 1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &fuzzInput{data}
		kind, flags := in.byte(), in.byte()
		cfg := triplet.Config{Strategy: triplet.Strategy(kind % 3),
			Metric: triplet.Metric(kind / 3 % 3), Margin: float32(in.byte()%8) / 4,
			SoftMargin: flags&1 != 0, WithBatch: flags&2 != 0,
			Reduction: triplet.Reduction(flags / 8 % 3)}
		n := 1 + in.byte()%12
		m := (in.byte() | in.byte()<<8) % 700
		if cfg.SoftMargin && cfg.Strategy == triplet.BatchAll {
			m %= 120 // a softplus per triplet, about n·m²/classes of them
		}
		dim, classes := 1+in.byte()%17, 1+in.byte()%5
		withIDs := flags&4 != 0

		batch := make([]float32, n*dim)
		labels := make([]int32, n)
		for i := range labels {
			labels[i] = int32(in.byte() % classes)
		}
		for k := range batch {
			batch[k] = in.smallFloat()
		}
		rng := rand.New(rand.NewPCG(uint64(len(data)), uint64(kind)))
		refs := make([]float32, m*dim)
		refLabels := make([]int32, m)
		for j := range m {
			refLabels[j] = int32(rng.IntN(classes + 1))
			row := refs[j*dim : (j+1)*dim]
			if rng.IntN(5) == 0 {
				copy(row, batch[rng.IntN(n)*dim:])
				continue
			}
			for k := range row {
				row[k] = float32(rng.IntN(9)-4) / 4
			}
		}
		var ids, refIDs []int64
		if withIDs {
			ids, refIDs = make([]int64, n), make([]int64, m)
			for i := range ids {
				ids[i] = int64(i)
			}
			for j := range refIDs {
				refIDs[j] = int64(rng.IntN(4 * n))
			}
		}

		b := mining.Batch{Rows: batch, Dim: dim, Labels: labels, IDs: ids}
		r := mining.Refs{Rows: refs, Labels: refLabels, IDs: refIDs}
		mcfg := mining.Config{Strategy: cfg.Strategy, Margin: cfg.Margin,
			SoftMargin: cfg.SoftMargin, Reduction: cfg.Reduction, WithBatch: cfg.WithBatch}
		for _, l := range asm.Levels() {
			restore := kerneltest.Force(t, l)
			full := fullRefs{}
			full.c, full.err = fullmatrix.New(cfg.Metric, b, r)
			if full.err == nil {
				// Each level's distances, and so its selections and
				// dL/dD, are its own.
				full.want = full.c.Mine(mcfg)
				full.grad, full.gradErr = full.c.Grad(full.want.DLdD)
				full.scales = refGradScales(cfg.Metric, b, r, full.want.DLdD)
			}
			for _, workers := range []int{1, 2} {
				cfg.Workers = workers
				checkMineRefs(t, l, cfg, b, r, full)
			}
			restore()
		}
	})
}

// fullRefs is the full-matrix result that MineRefs is compared with.
type fullRefs struct {
	c       *fullmatrix.Case
	err     error // from building the matrix
	want    fullmatrix.Result
	grad    []float32
	gradErr error     // the full matrix's dense backward overflowed
	scales  []float64 // what each batch row's gradient sums, for tolerances
}

// checkMineRefs compares the facade's MineRefs with the full matrix.
func checkMineRefs(t *testing.T, l asm.Level, cfg triplet.Config, b mining.Batch,
	r mining.Refs, full fullRefs) {

	t.Helper()
	miner, err := triplet.NewMiner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	grad := make([]float32, len(b.Rows))
	got, err := miner.MineRefs(b.Rows, b.Dim, b.Labels, b.IDs, r, grad)
	if full.err != nil || err != nil {
		if (full.err == nil) != (err == nil) {
			t.Fatalf("%+v at %v: error %v, full matrix %v", cfg, l, err, full.err)
		}
		return
	}
	want := full.want
	if !slices.Equal(got.Triplets, want.Triplets) {
		t.Fatalf("%+v at %v: triplets\n got %v\nwant %v", cfg, l, got.Triplets, want.Triplets)
	}
	gs, ws := got.Stats, want.Stats
	if gs.Anchors != ws.Anchors || gs.Pairs != ws.Pairs || gs.Triplets != ws.Triplets ||
		gs.Active != ws.Active {
		t.Fatalf("%+v at %v: stats\n got %+v\nwant %+v", cfg, l, gs, ws)
	}
	if !(math.Abs(got.Loss-want.Loss) <= 1e-6*max(1e-30, math.Abs(want.Loss))) {
		t.Fatalf("%+v at %v: loss %v, full matrix %v", cfg, l, got.Loss, want.Loss)
	}
	if full.gradErr != nil {
		// The streamed backward scales before it sums and need not
		// overflow where the full matrix's did: nothing to compare.
		return
	}
	for k := range grad {
		closeTo(t, "gradient", l, grad[k], full.grad[k], 0, 1e-3*full.scales[k/b.Dim]+1e-30)
	}
}

// refGradScales bounds what each batch row's gradient sums (see
// gradScales) for dL/dD over the batch and references, the batch columns
// counting on both sides, around the batch's mean and the joint mean (the
// streamed and the full-matrix backward centre on one each).
func refGradScales(metric dist.Metric, b mining.Batch, r mining.Refs, dLdD []float64) []float64 {
	n, dim := len(b.Labels), b.Dim
	cols := n + len(r.Labels)
	w := make([]float32, len(dLdD))
	own := make([]float32, n*n)
	for k, v := range dLdD {
		w[k] = float32(v)
		if a, c := k/cols, k%cols; c < n {
			own[a*n+c] = float32(v)
		}
	}
	joined := append(slices.Clone(b.Rows), r.Rows...)
	scales := make([]float64, n)
	for _, mean := range [][]float64{meanRow(dim, b.Rows), meanRow(dim, b.Rows, r.Rows)} {
		forward := gradScales(metric, b.Rows, joined, w, dim, false, mean)
		backward := gradScales(metric, b.Rows, b.Rows, own, dim, true, mean)
		for i := range scales {
			scales[i] = max(scales[i], forward[i]+backward[i])
		}
	}
	return scales
}
