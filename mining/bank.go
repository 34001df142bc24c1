package mining

import (
	"fmt"

	"github.com/tripletmine/triplet/dist"
)

// A Bank is a cross-batch memory (Wang et al. 2020): a ring buffer that
// holds the last Cap rows added to it, with their labels and sample ids,
// for MineRefs to mine later batches against. Its storage is allocated
// once, by NewBank; Add copies rows in, overwriting the oldest once the
// bank is full, and allocates nothing.
//
// A Bank must not be used by two goroutines at once, and the Refs it
// returns are views of its storage: they hold until the next Add or Reset.
type Bank struct {
	dim, minRows int
	rows         []float32
	labels       []int32
	ids          []int64
	normsSq      []float32
	size, next   int
	idState      int // idsUnknown until the first Add, then idsGiven or idsNone
	calc         dist.Calculator
	scratch      []float32 // the squared norms of the rows being added
}

const (
	idsUnknown = iota
	idsGiven
	idsNone
)

// NewBank returns an empty bank of capacity rows of dim values, which
// Ready reports ready once it holds minRows rows (0 means at once).
func NewBank(capacity, dim, minRows int) (*Bank, error) {
	switch {
	case dim < 1:
		return nil, fmt.Errorf("%w: dim %d < 1", ErrShape, dim)
	case capacity < 1:
		return nil, fmt.Errorf("%w: capacity %d < 1", ErrShape, capacity)
	case minRows < 0 || minRows > capacity:
		return nil, fmt.Errorf("%w: minRows %d is outside [0, capacity %d]", ErrShape, minRows,
			capacity)
	}
	return &Bank{dim: dim, minRows: minRows,
		rows: make([]float32, capacity*dim), labels: make([]int32, capacity),
		ids: make([]int64, capacity), normsSq: make([]float32, capacity),
		scratch: make([]float32, capacity)}, nil
}

// Add copies rows (Dim values each), their labels and their sample ids
// into the bank, in order, overwriting the oldest rows once it is full; of
// more rows than Cap, the last Cap stay. ids may be nil, but then for
// every Add until the next Reset: a bank holds ids for all its rows or
// for none.
//
// Add returns an error and changes nothing if a length does not fit, if a
// value is NaN or ±Inf or a row's norm could overflow the distances (as
// dist.Calculator.Norms checks), or if ids are given when earlier rows had
// none, or the other way round.
func (b *Bank) Add(rows []float32, labels []int32, ids []int64) error {
	dim := b.dim
	if len(rows)%dim != 0 || len(labels) != len(rows)/dim {
		return fmt.Errorf("%w: %d values and %d labels for rows of dim %d", ErrShape,
			len(rows), len(labels), dim)
	}
	n := len(labels)
	if ids != nil && len(ids) != n {
		return fmt.Errorf("%w: %d ids for %d rows", ErrShape, len(ids), n)
	}
	if err := b.checkIDs(n, ids); err != nil {
		return err
	}
	if err := b.check(rows); err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	b.idState = idsNone
	if ids != nil {
		b.idState = idsGiven
	}

	capacity := len(b.labels)
	skip := max(0, n-capacity)
	for i := skip; i < n; i++ {
		slot := b.next
		copy(b.rows[slot*dim:(slot+1)*dim], rows[i*dim:(i+1)*dim])
		b.labels[slot] = labels[i]
		b.normsSq[slot] = b.scratch[i-skip]
		if ids != nil {
			b.ids[slot] = ids[i]
		}
		b.next = (slot + 1) % capacity
	}
	b.size = min(capacity, b.size+n-skip)
	return nil
}

// check checks rows as dist.Calculator.Norms does, in runs of at most
// Cap rows, so that its scratch space, allocated by NewBank, suffices for
// any batch; it leaves the squared norms of the last Cap rows (those Add
// keeps) in b.scratch.
func (b *Bank) check(rows []float32) error {
	dim, capacity := b.dim, len(b.labels)
	n := len(rows) / dim
	kept := max(0, n-capacity)
	for start := 0; start < n; {
		end := min(start+capacity, kept)
		if start >= kept {
			end = n
		}
		var err error
		b.scratch, err = b.calc.Norms(b.scratch[:0], rows[start*dim:end*dim], dim, "bank")
		if err != nil && start > 0 {
			return fmt.Errorf("%w (rows counted from the batch's row %d)", err, start)
		}
		if err != nil {
			return err
		}
		start = end
	}
	return nil
}

// checkIDs reports ids of a batch of n rows that do not fit the bank:
// ids for the rows of a bank that holds none, or the other way round.
func (b *Bank) checkIDs(n int, ids []int64) error {
	given := idsNone
	if ids != nil {
		given = idsGiven
	}
	if b.idState != idsUnknown && given != b.idState && n > 0 {
		return fmt.Errorf("%w: a bank holds ids for all its rows or for none", ErrShape)
	}
	return nil
}

// Refs returns the bank's rows as references for MineRefs, in slot order
// (not the order they were added in); MineRefs trusts the checks Add made.
// The view holds until the next Add or Reset.
func (b *Bank) Refs() Refs {
	r := Refs{Rows: b.rows[:b.size*b.dim], Labels: b.labels[:b.size],
		normsSq: b.normsSq[:b.size]}
	if b.idState == idsGiven {
		r.IDs = b.ids[:b.size]
	}
	return r
}

// Len returns the number of rows the bank holds.
func (b *Bank) Len() int { return b.size }

// Cap returns the number of rows the bank holds when full.
func (b *Bank) Cap() int { return len(b.labels) }

// Dim returns the number of values in a row.
func (b *Bank) Dim() int { return b.dim }

// Ready reports whether the bank holds at least the minimum number of rows
// given to NewBank, from which on a batch is worth mining against it.
func (b *Bank) Ready() bool { return b.size >= b.minRows }

// Reset empties the bank, keeping its storage.
func (b *Bank) Reset() {
	b.size, b.next, b.idState = 0, 0, idsUnknown
}
