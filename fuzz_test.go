package triplet_test

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/tripletmine/triplet/asm"
	"github.com/tripletmine/triplet/internal/kerneltest"
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

// FuzzPairs compares SquaredDistances and InnerProducts at every level with
// the float64 value of each pair, within the float32 error bound of
// summing dim terms. Pairs whose terms could overflow float32 in some order
// of summation are left out: their value depends on the order.
func FuzzPairs(f *testing.F) {
	f.Add([]byte{3, 5, 17, 0, 0, 0})
	f.Add([]byte{4, 4, 16, 1, 2, 3, 0x00, 0x00, 0x80, 0x3f})
	f.Add([]byte{1, 9, 33, 15, 7, 0, 0xff, 0xff, 0x7f, 0x7f, 0x01, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &fuzzInput{data}
		nq, nr, dim := in.byte()%10, in.byte()%10, 1+in.byte()%70
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
			restore()
		}
	})
}

func checkFuzzPairs(t *testing.T, l asm.Level, sq bool, dst, q, r []float32, dim int) {
	const u = 0x1p-24
	nr := len(r) / dim
	for i := range len(q) / dim {
		for j := range nr {
			var exact, absSum float64
			for k := range dim {
				x, y := float64(q[i*dim+k]), float64(r[j*dim+k])
				term := x * y
				if sq {
					term = (x - y) * (x - y)
				}
				exact += term
				absSum += math.Abs(term)
			}
			if absSum > math.MaxFloat32/4 {
				continue
			}
			got := float64(dst[i*nr+j])
			m := float64(dim + 2)
			tol := m*u/(1-m*u)*absSum + m*0x1p-149
			if math.Abs(got-exact) > tol || (sq && exact == 0 && got != 0) {
				t.Fatalf("%v squared=%v dim %d pair (%d,%d): got %g, want %g ± %g",
					l, sq, dim, i, j, got, exact, tol)
			}
		}
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
