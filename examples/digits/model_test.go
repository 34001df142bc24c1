package main

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tripletmine/triplet"
)

// smallModel returns a model of in → hidden → out units with nonzero
// biases, and n rows of random inputs for it.
func smallModel(in, hidden, out, n int) (*model, []float32) {
	rng := rand.New(rand.NewPCG(3, 4))
	m := newModel(in, hidden, out, rng)
	for _, b := range [][]float64{m.b1, m.b2} {
		for i := range b {
			b[i] = 0.3 * rng.NormFloat64()
		}
	}
	x := make([]float32, n*in)
	for i := range x {
		x[i] = rng.Float32()
	}
	return m, x
}

// checkGradient compares grad, the gradient of loss with respect to
// m.params, with central differences of step h, and fails where they
// differ by more than tol·max(1, |difference quotient|).
func checkGradient(t *testing.T, m *model, grad []float64, loss func() float64, h, tol float64) {
	t.Helper()
	worst := 0.0
	for i := range m.params {
		saved := m.params[i]
		m.params[i] = saved + h
		up := loss()
		m.params[i] = saved - h
		down := loss()
		m.params[i] = saved

		numeric := (up - down) / (2 * h)
		err := math.Abs(grad[i]-numeric) / max(1, math.Abs(numeric))
		worst = max(worst, err)
		if err > tol {
			t.Errorf("parameter %d: backward says %.6g, finite differences %.6g", i, grad[i],
				numeric)
		}
	}
	t.Logf("%d parameters, worst relative difference %.2g", len(m.params), worst)
}

// TestBackward checks the model's backward pass against finite
// differences of a linear function of its embeddings, L = Σ w·e.
func TestBackward(t *testing.T) {
	const in, hidden, out, n = 7, 5, 3, 6
	m, x := smallModel(in, hidden, out, n)
	rng := rand.New(rand.NewPCG(5, 6))
	w := make([]float32, n*out)
	for i := range w {
		w[i] = float32(rng.NormFloat64())
	}

	emb := make([]float32, n*out)
	loss := func() float64 {
		m.forward(&pass{}, x, n, emb)
		var sum float64
		for i, e := range emb {
			sum += float64(w[i]) * float64(e)
		}
		return sum
	}

	var p pass
	m.forward(&p, x, n, emb)
	grad := make([]float64, len(m.params))
	m.backward(&p, w, grad)

	// The embeddings are rounded to float32, about 1e-7 of their size;
	// over a step of 1e-3 that leaves quotients good to about 1e-4.
	checkGradient(t, m, grad, loss, 1e-3, 1e-3)
}

// TestBackwardThroughMiner checks the chain that training runs: the
// Miner's gradient with respect to the embeddings (through its scaling to
// unit length), carried back through the model, against finite
// differences of the Miner's loss. The soft margin and batch-all keep the
// loss smooth, so no triplet changes its role within a step.
func TestBackwardThroughMiner(t *testing.T) {
	const in, hidden, out, n = 6, 5, 4, 8
	m, x := smallModel(in, hidden, out, n)
	labels := []int32{0, 1, 2, 0, 1, 2, 0, 1}
	miner, err := triplet.NewMiner(triplet.Config{Strategy: triplet.BatchAll,
		Metric: triplet.Euclidean, Margin: 0.2, SoftMargin: true, Normalize: true})
	if err != nil {
		t.Fatal(err)
	}

	emb := make([]float32, n*out)
	loss := func() float64 {
		m.forward(&pass{}, x, n, emb)
		res, err := miner.Mine(emb, out, labels, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res.Loss
	}

	var p pass
	m.forward(&p, x, n, emb)
	dEmb := make([]float32, n*out)
	if _, err := miner.Mine(emb, out, labels, dEmb); err != nil {
		t.Fatal(err)
	}
	grad := make([]float64, len(m.params))
	m.backward(&p, dEmb, grad)

	// The distances are float32, so the loss is good to about 1e-7 of
	// its size, the quotients over a step of 1e-3 to about 1e-4, and the
	// gradient, computed in float32 as well, to a few 1e-6.
	checkGradient(t, m, grad, loss, 1e-3, 2e-3)
}

func TestAdamStep(t *testing.T) {
	// Adam's first step moves every parameter by the learning rate,
	// against the sign of its gradient, whatever the gradient's size (give
	// or take eps).
	a := newAdam(0.01, 3)
	params := []float64{1, 1, 1}
	a.step(params, []float64{1e-3, -5, 0})
	want := []float64{0.99, 1.01, 1}
	for i := range params {
		if math.Abs(params[i]-want[i]) > 1e-7 {
			t.Errorf("after one step, params = %v, want %v", params, want)
			break
		}
	}
}

func TestClone(t *testing.T) {
	m, _ := smallModel(3, 2, 2, 1)
	c := m.clone()
	c.w1[0]++
	c.b2[1]++
	if m.w1[0] == c.w1[0] || m.b2[1] == c.b2[1] || c.params[0] != c.w1[0] {
		t.Error("a clone shares parameters with its original, or its views are stale")
	}
}
