package asm_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tripletmine/triplet/asm"
	"github.com/tripletmine/triplet/internal/kerneltest"
)

// The in-test references below are straight loops over the whole row,
// written apart from the package's generic code, which the tests also
// compare against by forcing the generic level.

// refHardestPositive is the largest row[j] with labels[j] == label and
// j != self, first column on ties; -1 and 0 if there is none.
func refHardestPositive(row []float32, labels []int32, label int32, self int) (int, float32) {
	best := -1
	for j := range row {
		if j != self && labels[j] == label && (best < 0 || row[j] > row[best]) {
			best = j
		}
	}
	return selected(row, best)
}

// refHardestNegative is the smallest row[j] with labels[j] != label and
// j != self, first column on ties; -1 and 0 if there is none.
func refHardestNegative(row []float32, labels []int32, label int32, self int) (int, float32) {
	best := -1
	for j := range row {
		if j != self && labels[j] != label && (best < 0 || row[j] < row[best]) {
			best = j
		}
	}
	return selected(row, best)
}

// refSemiHardNegative is the smallest row[j] > threshold with
// labels[j] != label and j != self, first column on ties.
func refSemiHardNegative(row []float32, labels []int32, label int32, self int,
	threshold float32) (int, float32) {

	best := -1
	for j := range row {
		if j != self && labels[j] != label && row[j] > threshold &&
			(best < 0 || row[j] < row[best]) {
			best = j
		}
	}
	return selected(row, best)
}

// selected returns a reference's choice: the column and its value, or -1
// and 0 when there is none.
func selected(row []float32, best int) (int, float32) {
	if best < 0 {
		return -1, 0
	}
	return best, row[best]
}

// refHingeSum sums float64(t) - float64(row[j]) over the negatives with
// row[j] < t, in column order, and counts them. Every term is positive, so
// the sum is also the sum of the terms' magnitudes that the bound needs.
func refHingeSum(row []float32, labels []int32, label int32, self int,
	t float32) (sum float64, count int) {

	for j, v := range row {
		if j != self && labels[j] != label && v < t {
			sum += float64(t) - float64(v)
			count++
		}
	}
	return sum, count
}

// hingeTolerance bounds the difference between two sums of the same n
// float64 terms added in different orders. Each term is the same rounded
// float64 difference on both sides (the same operation on the same
// operands); only the order of the additions differs. Any order of adding
// n numbers, each passing through at most n-1 roundings with u = 2⁻⁵³, is
// within γ(n-1)·Σ|term| of the exact sum, γ(m) = m·u/(1 - m·u) (Higham,
// Accuracy and Stability of Numerical Algorithms, §4.2). Two such sums
// differ by at most 2·γ(n-1)·Σ|term|, which for n < 2³² is at most
// n·2⁻⁵²·Σ|term|. No term and no partial sum is subnormal or overflows:
// float32 values and their differences lie well inside float64's range.
func hingeTolerance(n int, absSum float64) float64 {
	return float64(n) * 0x1p-52 * absSum
}

// distanceKinds name the kinds of values a test row holds.
var distanceKinds = []string{"random", "ties", "zeros", "huge", "tiny", "signed"}

// distanceOf returns one value of the given kind.
func distanceOf(rng *rand.Rand, kind string) float32 {
	switch kind {
	case "ties":
		return float32(1 + rng.IntN(3))
	case "zeros":
		if rng.IntN(2) == 0 {
			return float32(math.Copysign(0, -1))
		}
		return 0
	case "huge":
		return float32(1e30 * math.Pow(3e38/1e30, rng.Float64()))
	case "tiny":
		// Subnormals and the smallest normals, up to about 1e-38.
		return math.Float32frombits(1 + rng.Uint32N(0x00800000+0x00100000))
	case "signed":
		return float32(rng.NormFloat64())
	}
	return 4 * rng.Float32()
}

// labelPatterns name how a test row's labels relate to the anchor's.
var labelPatterns = []string{"pk", "same", "different", "few", "onlyself"}

// fillLabels sets labels by pattern and returns the anchor's label.
// "onlyself" makes the anchor's own column the only positive when self is
// even, and the only negative when self is odd; with self outside the row
// every column is a positive.
func fillLabels(rng *rand.Rand, pattern string, labels []int32, self int) int32 {
	label := int32(7)
	for j := range labels {
		switch pattern {
		case "pk":
			labels[j] = int32(j / 4)
		case "same":
			labels[j] = label
		case "different":
			labels[j] = int32(1000 + j)
		case "few":
			labels[j] = int32(5 + rng.IntN(3))
		case "onlyself":
			if (j == self) == (self%2 == 0) {
				labels[j] = label
			} else {
				labels[j] = label + 1
			}
		}
	}
	if pattern == "pk" && len(labels) > 0 {
		label = labels[rng.IntN(len(labels))]
	}
	return label
}

// thresholdsFor returns thresholds at, just below and just above picks
// values of row, and below and above all of them.
func thresholdsFor(rng *rand.Rand, row []float32, picks int) []float32 {
	ts := []float32{-1e38, 1e38, 0}
	for range picks {
		if len(row) == 0 {
			break
		}
		v := row[rng.IntN(len(row))]
		ts = append(ts, v,
			math.Nextafter32(v, float32(math.Inf(-1))),
			math.Nextafter32(v, float32(math.Inf(1))))
	}
	return ts
}

// atGeneric runs f with the kernels forced to the generic level.
func atGeneric(t *testing.T, f func()) {
	t.Helper()
	defer kerneltest.Force(t, asm.Generic)()
	f()
}

// reduceCase is one distance row to check all reductions on.
type reduceCase struct {
	row        []float32
	labels     []int32
	label      int32
	self       int
	thresholds []float32
}

func (c reduceCase) String() string {
	return fmt.Sprintf("n=%d label=%d self=%d", len(c.row), c.label, c.self)
}

// checkReduce fails t unless every reduction of c at the current level
// matches the in-test reference and the same call at the generic level:
// selections exactly (index and value bits), hinge counts exactly and
// sums within hingeTolerance.
func checkReduce(t *testing.T, c reduceCase) {
	t.Helper()
	checkSelection := func(name string, run, want func() (int, float32)) {
		t.Helper()
		j, v := run()
		wantJ, wantV := want()
		var genJ int
		var genV float32
		atGeneric(t, func() { genJ, genV = run() })
		if j != wantJ || math.Float32bits(v) != math.Float32bits(wantV) {
			t.Fatalf("%s(%v) = %d, %v; want %d, %v", name, c, j, v, wantJ, wantV)
		}
		if j != genJ || math.Float32bits(v) != math.Float32bits(genV) {
			t.Fatalf("%s(%v) = %d, %v; generic level gives %d, %v",
				name, c, j, v, genJ, genV)
		}
	}
	row, labels, label, self := c.row, c.labels, c.label, c.self

	checkSelection("HardestPositive",
		func() (int, float32) { return asm.HardestPositive(row, labels, label, self) },
		func() (int, float32) { return refHardestPositive(row, labels, label, self) })
	checkSelection("HardestNegative",
		func() (int, float32) { return asm.HardestNegative(row, labels, label, self) },
		func() (int, float32) { return refHardestNegative(row, labels, label, self) })

	for _, th := range c.thresholds {
		checkSelection(fmt.Sprintf("SemiHardNegative[threshold=%v]", th),
			func() (int, float32) { return asm.SemiHardNegative(row, labels, label, self, th) },
			func() (int, float32) { return refSemiHardNegative(row, labels, label, self, th) })

		hinge := func() (float64, int) { return asm.HingeSum(row, labels, label, self, th) }
		sum, count := hinge()
		wantSum, wantCount := refHingeSum(row, labels, label, self, th)
		var genSum float64
		var genCount int
		atGeneric(t, func() { genSum, genCount = hinge() })
		tol := hingeTolerance(len(row), wantSum)
		if count != wantCount || math.Abs(sum-wantSum) > tol {
			t.Fatalf("HingeSum(%v, t=%v) = %v, %d; want %v, %d (tolerance %g)",
				c, th, sum, count, wantSum, wantCount, tol)
		}
		if count != genCount || math.Abs(sum-genSum) > tol {
			t.Fatalf("HingeSum(%v, t=%v) = %v, %d; generic level gives %v, %d",
				c, th, sum, count, genSum, genCount)
		}

		checkAddHinge(t, c, th)
	}
}

// checkAddHinge fails t unless AddHingeCounts at the current level adds
// w exactly where the straight-loop reference does, to a dst of mixed
// values (-0 among them), and matches the generic level bit for bit.
func checkAddHinge(t *testing.T, c reduceCase, th float32) {
	t.Helper()
	const w = -0.375
	start := make([]float32, len(c.row))
	for j := range start {
		start[j] = []float32{0, float32(math.Copysign(0, -1)), 1.5, -2e-39}[j%4]
	}
	want := slices.Clone(start)
	for j, v := range c.row {
		if c.labels[j] != c.label && j != c.self && v < th {
			want[j] += w
		}
	}
	got, gen := slices.Clone(start), slices.Clone(start)
	asm.AddHingeCounts(got, c.row, c.labels, c.label, c.self, th, w)
	atGeneric(t, func() { asm.AddHingeCounts(gen, c.row, c.labels, c.label, c.self, th, w) })
	for j := range got {
		if math.Float32bits(got[j]) != math.Float32bits(want[j]) ||
			math.Float32bits(gen[j]) != math.Float32bits(want[j]) {
			t.Fatalf("AddHingeCounts(%v, t=%v): dst[%d] = %v (generic %v), want %v",
				c, th, j, got[j], gen[j], want[j])
		}
	}
}

// TestAddHingeCountsGuardPages runs AddHingeCounts with dst, row and labels
// flush against inaccessible pages, so that a stray read or write faults.
func TestAddHingeCountsGuardPages(t *testing.T) {
	kerneltest.Run(t, func(t *testing.T, level asm.Level) {
		kerneltest.SkipGuardsUnderEmulation(t, level)
		for n := range 68 {
			for _, back := range []bool{true, false} {
				dst := kerneltest.Floats(t, n, back)
				row := kerneltest.Floats(t, n, !back)
				labels := kerneltest.Int32s(t, n, back)
				for j := range row {
					row[j], labels[j] = float32(j%5), int32(j%3)
				}
				asm.AddHingeCounts(dst, row, labels, 1, n/2, 3, 1)
				for j := range dst {
					want := float32(0)
					if labels[j] != 1 && j != n/2 && row[j] < 3 {
						want = 1
					}
					if dst[j] != want {
						t.Fatalf("n=%d back=%v: dst[%d] = %v, want %v", n, back, j, dst[j], want)
					}
				}
			}
		}
	})
}

// selfsFor returns the anchor columns to try on a row of n columns:
// none, the first, the last, one inside, and out-of-range ones, which
// exclude nothing.
func selfsFor(rng *rand.Rand, n int) []int {
	selfs := []int{-1, 0, n - 1, n, -7}
	if n > 2 {
		selfs = append(selfs, 1+rng.IntN(n-2))
	}
	return selfs
}

// checkKinds fills row with values of each of the kinds and labels with
// each pattern, and checks each reduction on them with every self.
func checkKinds(t *testing.T, rng *rand.Rand, row []float32, labels []int32,
	kinds, patterns []string) {

	t.Helper()
	for _, kind := range kinds {
		for j := range row {
			row[j] = distanceOf(rng, kind)
		}
		thresholds := thresholdsFor(rng, row, 2)
		for _, pattern := range patterns {
			for _, self := range selfsFor(rng, len(row)) {
				label := fillLabels(rng, pattern, labels, self)
				checkReduce(t, reduceCase{row, labels, label, self, thresholds})
			}
		}
	}
}

// TestReduceShortRows covers every row length around the vector widths
// and unrolled rounds, at every start offset 0..15 elements from a fresh
// allocation. Each offset takes one kind of values besides ties, so that
// each length meets every kind.
func TestReduceShortRows(t *testing.T) {
	kerneltest.Run(t, func(t *testing.T, level asm.Level) {
		t.Logf("reductions at level %v", level)
		rng := rand.New(rand.NewPCG(1, uint64(level)))
		for n := range 68 {
			for _, offset := range kerneltest.Offsets() {
				row := make([]float32, offset+n)[offset:]
				labels := make([]int32, offset+n)[offset:]
				kinds := []string{"ties", distanceKinds[offset%len(distanceKinds)]}
				checkKinds(t, rng, row, labels, kinds, labelPatterns)
			}
		}
	})
}

// TestReduceLongRows covers rows around and across the 65536-column chunk
// that one kernel call reduces, the anchor's own column on either side of
// a chunk boundary, and lengths that start 0 or 5 elements into their
// allocation.
func TestReduceLongRows(t *testing.T) {
	lengths := []int{1000, 4096, 65535, 65536, 65537, 200000}
	if testing.Short() {
		lengths = lengths[:3]
	}
	kerneltest.Run(t, func(t *testing.T, level asm.Level) {
		t.Logf("reductions at level %v", level)
		rng := rand.New(rand.NewPCG(2, uint64(level)))
		for i, n := range lengths {
			offset := 5 * (i % 2)
			row := make([]float32, offset+n)[offset:]
			labels := make([]int32, offset+n)[offset:]
			for _, kind := range []string{"random", "ties"} {
				for j := range row {
					row[j] = distanceOf(rng, kind)
				}
				thresholds := thresholdsFor(rng, row, 1)
				for _, pattern := range []string{"pk", "onlyself"} {
					for _, self := range []int{-1, n - 1, 65535, 65536, n / 2} {
						label := fillLabels(rng, pattern, labels, self)
						checkReduce(t, reduceCase{row, labels, label, self, thresholds})
					}
				}
			}
		}
	})
}

// TestReduceChunkTies puts equal best values on both sides of the 65536
// column chunk boundary: the lower column must win across chunks too.
func TestReduceChunkTies(t *testing.T) {
	kerneltest.Run(t, func(t *testing.T, level asm.Level) {
		n := 3*65536 + 9
		row := make([]float32, n)
		labels := make([]int32, n)
		for j := range row {
			row[j] = 2
			labels[j] = int32(j % 2)
		}
		for _, j := range []int{65535, 65536, 65537, 2 * 65536, n - 1} {
			row[j] = 1
		}
		for _, self := range []int{-1, 65535, 65536} {
			for _, label := range []int32{0, 1} {
				checkReduce(t, reduceCase{row, labels, label, self, []float32{1, 1.5, 2, 3}})
			}
		}
	})
}

// TestReduceGuardPages runs every reduction on rows that end, or start,
// right at an inaccessible page, so that reading one element too many
// faults.
func TestReduceGuardPages(t *testing.T) {
	if !kerneltest.GuardPages {
		t.Skip("no guard pages on this system")
	}
	kerneltest.Run(t, func(t *testing.T, level asm.Level) {
		kerneltest.SkipGuardsUnderEmulation(t, level)
		rng := rand.New(rand.NewPCG(3, uint64(level)))
		for n := range 68 {
			for _, back := range []bool{true, false} {
				row := kerneltest.Floats(t, n, back)
				labels := kerneltest.Int32s(t, n, back)
				checkKinds(t, rng, row, labels, []string{"ties", "random"},
					[]string{"pk", "same", "different"})
			}
		}
	})
}

// TestReduceAllocations checks that the reductions allocate nothing: the
// stubs do not let the rows escape.
func TestReduceAllocations(t *testing.T) {
	kerneltest.Run(t, func(t *testing.T, level asm.Level) {
		row := make([]float32, 100)
		labels := make([]int32, 100)
		for j := range row {
			row[j] = float32(j % 7)
			labels[j] = int32(j / 4)
		}
		allocs := testing.AllocsPerRun(10, func() {
			asm.HardestPositive(row, labels, 3, 12)
			asm.HardestNegative(row, labels, 3, 12)
			asm.SemiHardNegative(row, labels, 3, 12, 2)
			asm.HingeSum(row, labels, 3, 12, 2)
		})
		if allocs != 0 {
			t.Errorf("reductions allocate %v times per call at level %v", allocs, level)
		}
	})
}

// benchmarkReduce runs reduce on a PK batch row (K = 4, label j/4) of
// random distances in [0, 4), anchored at column 10, for each row length,
// and reports elements per second.
func benchmarkReduce(b *testing.B,
	reduce func(row []float32, labels []int32, label int32, self int) float64) {

	kerneltest.Bench(b, func(b *testing.B) {
		for _, n := range []int{256, 1024, 4096} {
			b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
				rng := rand.New(rand.NewPCG(4, uint64(n)))
				row := make([]float32, n)
				labels := make([]int32, n)
				for j := range row {
					row[j] = 4 * rng.Float32()
					labels[j] = int32(j / 4)
				}
				const self = 10
				var sink float64
				calls := 0
				for b.Loop() {
					sink += reduce(row, labels, labels[self], self)
					calls++
				}
				b.ReportMetric(float64(n)*float64(calls)/b.Elapsed().Seconds()/1e9, "Gelem/s")
				benchSink = sink
			})
		}
	})
}

var benchSink float64

func BenchmarkHardestPositive(b *testing.B) {
	benchmarkReduce(b, func(row []float32, labels []int32, label int32, self int) float64 {
		j, v := asm.HardestPositive(row, labels, label, self)
		return float64(j) + float64(v)
	})
}

func BenchmarkHardestNegative(b *testing.B) {
	benchmarkReduce(b, func(row []float32, labels []int32, label int32, self int) float64 {
		j, v := asm.HardestNegative(row, labels, label, self)
		return float64(j) + float64(v)
	})
}

func BenchmarkSemiHardNegative(b *testing.B) {
	benchmarkReduce(b, func(row []float32, labels []int32, label int32, self int) float64 {
		j, v := asm.SemiHardNegative(row, labels, label, self, 1)
		return float64(j) + float64(v)
	})
}

func BenchmarkAddHingeCounts(b *testing.B) {
	dst := make([]float32, 4096)
	benchmarkReduce(b, func(row []float32, labels []int32, label int32, self int) float64 {
		asm.AddHingeCounts(dst[:len(row)], row, labels, label, self, 1.5, -0.25)
		return float64(dst[0])
	})
}

func BenchmarkHingeSum(b *testing.B) {
	benchmarkReduce(b, func(row []float32, labels []int32, label int32, self int) float64 {
		sum, count := asm.HingeSum(row, labels, label, self, 1.5)
		return sum + float64(count)
	})
}
