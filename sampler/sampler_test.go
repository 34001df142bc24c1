package sampler_test

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/tripletmine/triplet/sampler"
)

// unevenLabels returns a data set of seven classes with 5 to 11 rows each,
// interleaved so that no class sits in one block, and labels that are far
// apart, negative ones among them.
func unevenLabels() []int32 {
	names := []int32{40, -3, 7, math.MaxInt32, 0, math.MinInt32, 12}
	var labels []int32
	for round := range 11 {
		for c, name := range names {
			if round < 5+c {
				labels = append(labels, name)
			}
		}
	}
	return labels
}

// batch is a copy of a yielded batch.
type batch struct {
	rows   []int
	labels []int32
}

// draw copies the next n batches of s.
func draw(s *sampler.Sampler, n int) []batch {
	var out []batch
	for rows, labels := range s.Batches(n) {
		out = append(out, batch{slices.Clone(rows), slices.Clone(labels)})
	}
	return out
}

func mustNew(t *testing.T, labels []int32, cfg sampler.Config) *sampler.Sampler {
	t.Helper()
	s, err := sampler.New(labels, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewErrors(t *testing.T) {
	three := []int32{0, 0, 0, 1, 1, 1, 2, 2} // class 2 has 2 rows
	for _, tc := range []struct {
		name   string
		labels []int32
		cfg    sampler.Config
		want   string
	}{
		{"no labels", nil, sampler.Config{P: 2, K: 2}, "no labels"},
		{"P=1", three, sampler.Config{P: 1, K: 2}, "no anchor has a negative"},
		{"P=0", three, sampler.Config{P: 0, K: 2}, "P = 0"},
		{"K=1", three, sampler.Config{P: 2, K: 1}, "no anchor has a positive"},
		{"K=-1", three, sampler.Config{P: 2, K: -1}, "K = -1"},
		{"too few classes", three, sampler.Config{P: 4, K: 2},
			"3 eligible classes, fewer than P = 4"},
		{"too few once small ones are skipped", three, sampler.Config{P: 3, K: 3},
			"2 eligible classes (1 more have fewer than K = 3 rows and are skipped), " +
				"fewer than P = 3"},
		{"K above the rows", three, sampler.Config{P: 2, K: 9, Replace: true},
			"K = 9 rows per class, more than the 8 rows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := sampler.New(tc.labels, tc.cfg)
			if err == nil {
				t.Fatalf("New returned a sampler of %d classes, want an error", len(s.Classes()))
			}
			if !errors.Is(err, sampler.ErrInput) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q: want ErrInput saying %q", err, tc.want)
			}
		})
	}

	if _, err := sampler.New(three, sampler.Config{P: 3, K: 3, Replace: true}); err != nil {
		t.Errorf("with Replace, the class of 2 rows is eligible: %v", err)
	}
}

// TestBatchShape checks that every batch has P distinct classes, each
// with K distinct rows of that class, class after class.
func TestBatchShape(t *testing.T) {
	labels := unevenLabels()
	cfg := sampler.Config{P: 3, K: 4, Seed: 7}
	s := mustNew(t, labels, cfg)
	for i, b := range draw(s, 400) {
		if len(b.rows) != cfg.P*cfg.K || len(b.labels) != cfg.P*cfg.K {
			t.Fatalf("batch %d: %d rows and %d labels, want %d", i, len(b.rows),
				len(b.labels), cfg.P*cfg.K)
		}
		var classes []int32
		for c := range cfg.P {
			group := b.rows[c*cfg.K : (c+1)*cfg.K]
			label := b.labels[c*cfg.K]
			classes = append(classes, label)
			for j, row := range group {
				if row < 0 || row >= len(labels) || labels[row] != label ||
					b.labels[c*cfg.K+j] != label {
					t.Fatalf("batch %d, class %d: row %d does not have label %d",
						i, c, row, label)
				}
			}
			if distinct(group) != cfg.K {
				t.Fatalf("batch %d, class %d: rows %v repeat", i, c, group)
			}
		}
		if distinct(classes) != cfg.P {
			t.Fatalf("batch %d: classes %v repeat", i, classes)
		}
	}
}

func distinct[E comparable](s []E) int {
	seen := map[E]bool{}
	for _, v := range s {
		seen[v] = true
	}
	return len(seen)
}

func TestDeterministic(t *testing.T) {
	labels := unevenLabels()
	cfg := sampler.Config{P: 3, K: 4, Seed: 42}
	want := draw(mustNew(t, labels, cfg), 40)

	if got := draw(mustNew(t, labels, cfg), 40); !equal(got, want) {
		t.Error("two samplers with the same seed dealt different batches")
	}

	split := mustNew(t, labels, cfg)
	got := draw(split, 15)
	got = append(got, draw(split, 25)...)
	if !equal(got, want) {
		t.Error("Batches(15) then Batches(25) differ from Batches(40)")
	}

	broken := mustNew(t, labels, cfg)
	got = nil
	for rows, labels := range broken.Batches(100) {
		got = append(got, batch{slices.Clone(rows), slices.Clone(labels)})
		if len(got) == 10 {
			break
		}
	}
	got = append(got, draw(broken, 30)...)
	if !equal(got, want) {
		t.Error("a loop that broke after 10 batches did not leave the sampler after them")
	}

	cfg.Seed++
	if equal(draw(mustNew(t, labels, cfg), 40), want) {
		t.Error("seeds 42 and 43 dealt the same batches")
	}
}

func equal(a, b []batch) bool {
	return slices.EqualFunc(a, b, func(x, y batch) bool {
		return slices.Equal(x.rows, y.rows) && slices.Equal(x.labels, y.labels)
	})
}

// TestBalance checks the decks' promise: after every batch, the classes
// have been dealt equally often give or take one, and so have the rows of
// each class.
func TestBalance(t *testing.T) {
	labels := unevenLabels()
	s := mustNew(t, labels, sampler.Config{P: 3, K: 4, Seed: 3})
	classCount := map[int32]int{}
	rowCount := make([]int, len(labels))
	for i, b := range draw(s, 300) {
		for c := 0; c < len(b.rows); c += 4 {
			classCount[b.labels[c]]++
		}
		for _, row := range b.rows {
			rowCount[row]++
		}

		if lo, hi := spread(classCount, s.Classes()); hi-lo > 1 {
			t.Fatalf("after batch %d, classes dealt between %d and %d times", i, lo, hi)
		}
		for _, class := range s.Classes() {
			var counts []int
			for row, label := range labels {
				if label == class {
					counts = append(counts, rowCount[row])
				}
			}
			if lo, hi := slices.Min(counts), slices.Max(counts); hi-lo > 1 {
				t.Fatalf("after batch %d, the rows of class %d were dealt between %d and "+
					"%d times", i, class, lo, hi)
			}
		}
	}
}

func spread(count map[int32]int, classes []int32) (lo, hi int) {
	lo = math.MaxInt
	for _, c := range classes {
		lo, hi = min(lo, count[c]), max(hi, count[c])
	}
	return lo, hi
}

func TestSkipSmallClasses(t *testing.T) {
	labels := append(unevenLabels(), 99, 99, 99)
	s := mustNew(t, labels, sampler.Config{P: 3, K: 4, Seed: 1})
	if got := s.Skipped(); !slices.Equal(got, []int32{99}) {
		t.Fatalf("Skipped() = %v, want [99]", got)
	}
	if slices.Contains(s.Classes(), 99) {
		t.Fatalf("Classes() = %v holds the skipped class 99", s.Classes())
	}
	if s.Rows() != len(labels)-3 {
		t.Errorf("Rows() = %d, want %d", s.Rows(), len(labels)-3)
	}
	for _, b := range draw(s, 200) {
		if slices.Contains(b.labels, 99) {
			t.Fatalf("the class of 3 rows was dealt with K = 4: %v", b.labels)
		}
	}
}

func TestReplaceSmallClasses(t *testing.T) {
	base := unevenLabels()
	small := []int{len(base), len(base) + 1, len(base) + 2}
	labels := append(base, 99, 99, 99)
	s := mustNew(t, labels, sampler.Config{P: 3, K: 4, Seed: 1, Replace: true})
	if len(s.Skipped()) != 0 || !slices.Contains(s.Classes(), 99) {
		t.Fatalf("with Replace, Classes() = %v and Skipped() = %v; want 99 eligible",
			s.Classes(), s.Skipped())
	}

	dealt := 0
	for _, b := range draw(s, 200) {
		at := slices.Index(b.labels, 99)
		if at < 0 {
			continue
		}
		dealt++
		group := b.rows[at : at+4]
		for _, row := range small {
			if !slices.Contains(group, row) {
				t.Fatalf("class 99 was dealt as rows %v, without row %d", group, row)
			}
		}
		for _, row := range group {
			if !slices.Contains(small, row) {
				t.Fatalf("class 99 was dealt as rows %v, with row %d of another class",
					group, row)
			}
		}
	}
	// 200 batches of 3 classes are 75 rounds of the deck of 8 classes.
	if dealt != 75 {
		t.Errorf("class 99 was dealt %d times in 200 batches, want 75", dealt)
	}
}

// TestEveryClassMeetsEveryOther is a statistical check that hands are
// random: each of the 21 pairs of 7 classes should share a batch of 3
// classes in about 3·2/(7·6) = 1/7 of the batches.
func TestEveryClassMeetsEveryOther(t *testing.T) {
	labels := unevenLabels()
	s := mustNew(t, labels, sampler.Config{P: 3, K: 2, Seed: 11})
	const batches = 2100
	together := map[[2]int32]int{}
	seen := make([]bool, len(labels))
	for _, b := range draw(s, batches) {
		classes := []int32{b.labels[0], b.labels[2], b.labels[4]}
		slices.Sort(classes)
		for i := range classes {
			for j := i + 1; j < len(classes); j++ {
				together[[2]int32{classes[i], classes[j]}]++
			}
		}
		for _, row := range b.rows {
			seen[row] = true
		}
	}

	if i := slices.Index(seen, false); i >= 0 {
		t.Errorf("row %d was never dealt in %d batches", i, batches)
	}
	if len(together) != 21 {
		t.Errorf("%d of the 21 pairs of classes shared a batch", len(together))
	}
	// 300 expected per pair; over seeds 0..299, every count fell in
	// [260, 354].
	for pair, n := range together {
		if n < 230 || n > 370 {
			t.Errorf("classes %d and %d shared %d batches, want about 300", pair[0],
				pair[1], n)
		}
	}
}

func TestBatchesPerEpoch(t *testing.T) {
	s := mustNew(t, unevenLabels(), sampler.Config{P: 3, K: 4})
	// 5+6+…+11 = 56 rows in batches of 12.
	if got := s.BatchesPerEpoch(); got != 5 {
		t.Errorf("BatchesPerEpoch() = %d, want ⌈56/12⌉ = 5", got)
	}
	if n := len(draw(s, 0)) + len(draw(s, -1)); n != 0 {
		t.Errorf("Batches(0) and Batches(-1) yielded %d batches", n)
	}
}

// TestAllocations checks that dealing allocates nothing: ranging over 200
// batches costs what ranging over one does (the iterator itself).
func TestAllocations(t *testing.T) {
	s := mustNew(t, unevenLabels(), sampler.Config{P: 3, K: 4, Seed: 5})
	one := testing.AllocsPerRun(20, func() {
		for range s.Batches(1) {
		}
	})
	many := testing.AllocsPerRun(20, func() {
		for range s.Batches(200) {
		}
	})
	if many != one {
		t.Errorf("200 batches allocate %v times, 1 batch %v times", many, one)
	}
}
