package main

import (
	"math"
	"math/rand/v2"
	"slices"
)

// A model maps an image to an embedding through one hidden layer:
// e = W2·tanh(W1·x + b1) + b2. The Miner scales e to unit length
// (triplet.Config.Normalize) and the gradient it returns flows through
// that scaling, so the model itself ends at the linear layer.
//
// Its parameters sit in one slice, so that the optimiser sees a vector;
// w1, b1, w2 and b2 are views into it, weights row-major by output unit.
type model struct {
	in, hidden, out int

	params         []float64
	w1, b1, w2, b2 []float64
}

// newModel returns a model with weights drawn from N(0, 1/fan-in) (the
// scale that keeps tanh out of saturation) and zero biases.
func newModel(in, hidden, out int, rng *rand.Rand) *model {
	m := &model{in: in, hidden: hidden, out: out}
	m.params = make([]float64, hidden*in+hidden+out*hidden+out)
	m.views()
	for i := range m.w1 {
		m.w1[i] = rng.NormFloat64() / math.Sqrt(float64(in))
	}
	for i := range m.w2 {
		m.w2[i] = rng.NormFloat64() / math.Sqrt(float64(hidden))
	}
	return m
}

// views points w1, b1, w2 and b2 into params.
func (m *model) views() {
	rest := m.params
	take := func(n int) []float64 {
		part := rest[:n:n]
		rest = rest[n:]
		return part
	}
	m.w1, m.b1 = take(m.hidden*m.in), take(m.hidden)
	m.w2, m.b2 = take(m.out*m.hidden), take(m.out)
}

// clone returns a copy that shares nothing with m.
func (m *model) clone() *model {
	c := *m
	c.params = slices.Clone(m.params)
	c.views()
	return &c
}

// A pass keeps what a forward pass over a batch computed and its backward
// pass needs: the inputs and the hidden activations.
type pass struct {
	x      []float32 // n rows of in values
	n      int
	hidden []float64 // n rows of tanh outputs
	dh     []float64 // scratch: dL/d(hidden) of one row
}

// forward computes the embeddings of the n rows of x into emb (n rows of
// out values) and records in p what backward needs.
func (m *model) forward(p *pass, x []float32, n int, emb []float32) {
	p.x, p.n = x, n
	p.hidden = grow(p.hidden, n*m.hidden)
	for i := range n {
		row := x[i*m.in : (i+1)*m.in]
		h := p.hidden[i*m.hidden : (i+1)*m.hidden]
		for j := range h {
			sum := m.b1[j]
			for k, w := range m.w1[j*m.in : (j+1)*m.in] {
				sum += w * float64(row[k])
			}
			h[j] = math.Tanh(sum)
		}

		for o := range m.out {
			sum := m.b2[o]
			for j, w := range m.w2[o*m.hidden : (o+1)*m.hidden] {
				sum += w * h[j]
			}
			emb[i*m.out+o] = float32(sum)
		}
	}
}

// backward adds to grad (laid out as m.params) the gradient of a loss
// with respect to the parameters, given dEmb, its gradient with respect to
// the embeddings of the last forward pass recorded in p.
func (m *model) backward(p *pass, dEmb []float32, grad []float64) {
	gw1, gb1 := grad[:len(m.w1)], grad[len(m.w1):len(m.w1)+len(m.b1)]
	at := len(m.w1) + len(m.b1)
	gw2, gb2 := grad[at:at+len(m.w2)], grad[at+len(m.w2):]
	p.dh = grow(p.dh, m.hidden)

	for i := range p.n {
		h := p.hidden[i*m.hidden : (i+1)*m.hidden]
		de := dEmb[i*m.out : (i+1)*m.out]
		clear(p.dh)
		for o, g := range de {
			if g == 0 {
				continue
			}
			gb2[o] += float64(g)
			row := m.w2[o*m.hidden : (o+1)*m.hidden]
			for j := range h {
				gw2[o*m.hidden+j] += float64(g) * h[j]
				p.dh[j] += float64(g) * row[j]
			}
		}

		x := p.x[i*m.in : (i+1)*m.in]
		for j, hj := range h {
			dPre := p.dh[j] * (1 - hj*hj) // tanh' = 1 - tanh²
			if dPre == 0 {
				continue
			}
			gb1[j] += dPre
			for k, v := range x {
				gw1[j*m.in+k] += dPre * float64(v)
			}
		}
	}
}

// adam is the Adam optimiser (Kingma and Ba 2015) with its usual betas.
type adam struct {
	rate       float64
	m, v       []float64 // running means of the gradient and its square
	b1t, b2t   float64   // beta1 and beta2 to the power of the step count
	beta1      float64
	beta2, eps float64
}

func newAdam(rate float64, n int) *adam {
	return &adam{rate: rate, m: make([]float64, n), v: make([]float64, n), b1t: 1, b2t: 1,
		beta1: 0.9, beta2: 0.999, eps: 1e-8}
}

// step moves params against grad.
func (a *adam) step(params, grad []float64) {
	a.b1t *= a.beta1
	a.b2t *= a.beta2
	for i, g := range grad {
		a.m[i] = a.beta1*a.m[i] + (1-a.beta1)*g
		a.v[i] = a.beta2*a.v[i] + (1-a.beta2)*g*g
		mean, meanSq := a.m[i]/(1-a.b1t), a.v[i]/(1-a.b2t)
		params[i] -= a.rate * mean / (math.Sqrt(meanSq) + a.eps)
	}
}

// grow returns s[:n], reallocating only if s's capacity is below n.
func grow[E any](s []E, n int) []E {
	if cap(s) < n {
		return make([]E, n)
	}
	return s[:n]
}
