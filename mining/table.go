package mining

import "github.com/tripletmine/triplet/internal/scratch"

// table finds the anchors that carry a key (a label or a sample id) in
// O(1): an open-addressing hash table from each key to the first anchor
// with it, and for each anchor the next one with the same key, so that a
// key's anchors come in increasing order.
type table struct {
	keys  []int64
	heads []int32 // the first anchor with keys[s], or -1 for an empty slot
	next  []int32 // for each anchor, the next anchor with its key, or -1
	shift uint
}

// build fills the table with the n keys key(0), …, key(n-1).
func (t *table) build(n int, key func(i int) int64) {
	size, bits := 2, uint(1)
	for size < 2*n {
		size, bits = 2*size, bits+1
	}
	t.shift = 64 - bits
	if cap(t.keys) < size {
		t.keys, t.heads = make([]int64, size), make([]int32, size)
	}
	t.keys, t.heads = t.keys[:size], t.heads[:size]
	for s := range t.heads {
		t.heads[s] = -1
	}
	t.next = scratch.Grow(t.next, n)
	for i := n - 1; i >= 0; i-- {
		k := key(i)
		s := t.slot(k)
		t.keys[s] = k
		t.next[i] = t.heads[s]
		t.heads[s] = int32(i)
	}
}

// first returns the lowest anchor with key k, or -1 if none has it; the
// others follow through t.next.
func (t *table) first(k int64) int32 {
	return t.heads[t.slot(k)]
}

// slot returns the slot that holds k, or the empty slot where it would go.
func (t *table) slot(k int64) int {
	mask := len(t.heads) - 1
	s := int((uint64(k) * 0x9e3779b97f4a7c15) >> t.shift)
	for t.heads[s] >= 0 && t.keys[s] != k {
		s = (s + 1) & mask
	}
	return s
}
