// Package sampler draws PK batches from a labelled data set: each batch
// holds P classes and K rows of each, so that every row of the batch can
// be an anchor with K-1 positives and (P-1)·K negatives. It returns row
// indices into the data set, and the caller gathers the rows.
//
// The scheme: the classes that take part (the eligible ones) are dealt
// from a shuffled deck, P per batch, and the rows of each class are dealt
// from a shuffled deck of their own, K each time the class is dealt. A deck
// deals every card once, in random order, before it is shuffled again for
// the next round, and a batch that spans two rounds still holds no class
// twice, nor any row twice. So at any point the classes have been dealt
// equally often, give or take one, and so have the rows of each class.
// With classes of equal size, a data set of N rows is seen about once
// every N/(P·K) batches, which Sampler.BatchesPerEpoch counts.
//
// A class with fewer than K rows is skipped by default; with
// Config.Replace it is eligible, and each time it is dealt it brings each
// of its rows once and fills the rest of its K places with rows drawn
// uniformly at random, with replacement, among its own (so such a batch
// holds some rows twice).
//
// The sequence of batches has no end: Sampler.Batches yields as many as
// asked for and the next call goes on where the last one stopped. The same
// labels, Config and sequence of calls give the same batches.
package sampler

import (
	"cmp"
	"errors"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"slices"
)

// Config describes a Sampler.
type Config struct {
	// P is the number of classes in a batch, at least 2: with one class
	// no anchor would have a negative.
	P int

	// K is the number of rows of each class in a batch, at least 2: with
	// one row per class no anchor would have a positive.
	K int

	// Seed seeds the PCG generator that every draw comes from.
	Seed uint64

	// Replace makes classes with fewer than K rows eligible, completed by
	// drawing among their rows with replacement. By default they are
	// skipped.
	Replace bool
}

// ErrInput is wrapped by every error that New returns; the message says
// what is wrong.
var ErrInput = errors.New("sampler: bad input")

// A Sampler deals PK batches from the labels it was built with. It keeps
// the state of its decks between calls and must not be used by two
// goroutines at once.
type Sampler struct {
	cfg Config
	rng *rand.Rand

	labels  []int32 // the label of each eligible class, ascending
	skipped []int32 // the labels of the classes too small to be dealt
	rows    []int   // the rows of the eligible classes, class after class
	start   []int   // class c's rows are rows[start[c]:start[c+1]]

	classDeck deck   // the eligible classes, as indices into labels
	rowDecks  []deck // one per eligible class, over its part of rows

	hand       []int   // the classes of the batch being dealt
	batchRows  []int   // the batch's rows, K per class
	batchLabel []int32 // the label of each of batchRows
}

// New returns a Sampler of P·K batches over the rows of a data set whose
// i-th row has class labels[i], or an error if labels is empty, if P or K
// is below 2, if K exceeds the number of rows, or if fewer than P classes
// are eligible. Labels may be any int32 values; New keeps no reference to
// the slice.
func New(labels []int32, cfg Config) (*Sampler, error) {
	switch {
	case len(labels) == 0:
		return nil, fmt.Errorf("%w: no labels", ErrInput)
	case cfg.P < 2:
		return nil, fmt.Errorf("%w: P = %d classes per batch; at least 2 are needed, or no "+
			"anchor has a negative", ErrInput, cfg.P)
	case cfg.K < 2:
		return nil, fmt.Errorf("%w: K = %d rows per class; at least 2 are needed, or no "+
			"anchor has a positive", ErrInput, cfg.K)
	case cfg.K > len(labels):
		return nil, fmt.Errorf("%w: K = %d rows per class, more than the %d rows of the data set",
			ErrInput, cfg.K, len(labels))
	case cfg.K > math.MaxInt/cfg.P:
		return nil, fmt.Errorf("%w: a batch of P·K = %d·%d rows is too large", ErrInput,
			cfg.P, cfg.K)
	}

	s := &Sampler{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, pcgStream))}
	s.groupClasses(labels)
	if len(s.labels) < cfg.P {
		why := ""
		if len(s.skipped) > 0 {
			why = fmt.Sprintf(" (%d more have fewer than K = %d rows and are skipped)",
				len(s.skipped), cfg.K)
		}
		return nil, fmt.Errorf("%w: %d eligible classes%s, fewer than P = %d", ErrInput,
			len(s.labels), why, cfg.P)
	}

	s.classDeck = newDeck(len(s.labels))
	s.rowDecks = make([]deck, len(s.labels))
	for c := range s.rowDecks {
		s.rowDecks[c] = deck{cards: s.rows[s.start[c]:s.start[c+1]]}
		s.rowDecks[c].next = len(s.rowDecks[c].cards)
	}
	s.hand = make([]int, cfg.P)
	s.batchRows = make([]int, cfg.P*cfg.K)
	s.batchLabel = make([]int32, cfg.P*cfg.K)
	return s, nil
}

// pcgStream is the second half of the generator's seed; Config.Seed is the
// first.
const pcgStream = 0x7069636b

// groupClasses fills labels, skipped, rows and start: the classes in
// ascending label order, each with its rows in ascending order.
func (s *Sampler) groupClasses(labels []int32) {
	order := make([]int, len(labels))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(labels[a], labels[b])
	})

	s.rows = make([]int, 0, len(labels))
	s.start = []int{0}
	for first := 0; first < len(order); {
		label := labels[order[first]]
		end := first + 1
		for end < len(order) && labels[order[end]] == label {
			end++
		}
		if end-first < s.cfg.K && !s.cfg.Replace {
			s.skipped = append(s.skipped, label)
		} else {
			s.labels = append(s.labels, label)
			s.rows = append(s.rows, order[first:end]...)
			s.start = append(s.start, len(s.rows))
		}
		first = end
	}
}

// Classes returns the labels of the eligible classes in ascending order.
// The slice belongs to the Sampler.
func (s *Sampler) Classes() []int32 { return s.labels }

// Skipped returns the labels, in ascending order, of the classes with
// fewer than K rows that the Sampler leaves out; without Config.Replace
// there are none. The slice belongs to the Sampler.
func (s *Sampler) Skipped() []int32 { return s.skipped }

// Rows returns the number of rows in the eligible classes.
func (s *Sampler) Rows() int { return len(s.rows) }

// BatchesPerEpoch returns the number of batches that hold, together, at
// least as many rows as the eligible classes: ⌈Rows / (P·K)⌉. When the
// classes have equal sizes, that many batches show each row about once.
func (s *Sampler) BatchesPerEpoch() int {
	size := s.cfg.P * s.cfg.K
	return (len(s.rows) + size - 1) / size
}

// Batches yields the next n batches (none when n < 1); a loop that breaks
// early leaves the Sampler after the last batch it received. Each batch is
// P·K row indices and their labels, class after class: rows[c*K:(c+1)*K]
// are K rows of class labels[c*K].
//
// The two slices are reused: they hold a batch only until the loop body
// returns, and the next batch overwrites them. Copy them to keep them.
// Dealing a batch takes O(P·K) time on average and allocates nothing.
func (s *Sampler) Batches(n int) iter.Seq2[[]int, []int32] {
	return func(yield func(rows []int, labels []int32) bool) {
		for range n {
			s.deal()
			if !yield(s.batchRows, s.batchLabel) {
				return
			}
		}
	}
}

// deal writes the next batch into batchRows and batchLabel.
func (s *Sampler) deal() {
	k := s.cfg.K
	s.classDeck.deal(s.hand, s.rng)
	for i, c := range s.hand {
		rows := s.batchRows[i*k : (i+1)*k]
		d := &s.rowDecks[c]
		if have := len(d.cards); have < k {
			d.deal(rows[:have], s.rng)
			for j := have; j < k; j++ {
				rows[j] = d.cards[s.rng.IntN(have)]
			}
		} else {
			d.deal(rows, s.rng)
		}
		for j := range rows {
			s.batchLabel[i*k+j] = s.labels[c]
		}
	}
}

// A deck deals distinct cards in rounds: each round is a random order of
// all the cards, and every card is dealt once per round. cards[:next] have
// been dealt in the current round and cards[next:] have not.
type deck struct {
	cards []int
	next  int
}

// newDeck returns a deck of the cards 0..n-1 whose first round has yet to
// be shuffled.
func newDeck(n int) deck {
	d := deck{cards: make([]int, n), next: n}
	for i := range d.cards {
		d.cards[i] = i
	}
	return d
}

// deal writes len(hand) distinct cards, at most len(d.cards), into hand.
//
// When fewer are left in the round, the hand takes them all and the next
// round begins: the leftovers sit at the end of the deck, so the cards the
// hand still needs are drawn from the front part, which holds the others,
// and then the rest of the round, leftovers included, is shuffled behind
// them.
func (d *deck) deal(hand []int, rng *rand.Rand) {
	if left := len(d.cards) - d.next; left < len(hand) {
		copy(hand, d.cards[d.next:])
		need := len(hand) - left
		shuffle(d.cards[:d.next], rng)
		shuffle(d.cards[need:], rng)
		copy(hand[left:], d.cards[:need])
		d.next = need
		return
	}
	copy(hand, d.cards[d.next:])
	d.next += len(hand)
}

// shuffle puts cards in a uniformly random order (Fisher and Yates).
func shuffle(cards []int, rng *rand.Rand) {
	for i := len(cards) - 1; i > 0; i-- {
		j := rng.IntN(i + 1)
		cards[i], cards[j] = cards[j], cards[i]
	}
}
