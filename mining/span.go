package mining

import "github.com/tripletmine/triplet/asm"

// span is one anchor's row of a block of distances, as the reductions see
// it: the labels of its columns, the anchor's label, the anchor's own
// column (or -1) and the columns it excludes, in increasing order. The
// negatives are the columns with another label that are neither. The
// reductions run the kernels of package asm over the pieces between
// excluded columns and combine them so that ties go to the lowest column.
type span struct {
	labels   []int32
	label    int32
	self     int
	excluded []int32
}

// pieces returns the number of pieces of a row.
func (sp span) pieces() int { return len(sp.excluded) + 1 }

// piece returns piece k of a row of n columns, [j0, j1), and the anchor's
// own column in it (or -1).
func (sp span) piece(k, n int) (j0, j1, self int) {
	j0, j1 = 0, n
	if k > 0 {
		j0 = int(sp.excluded[k-1]) + 1
	}
	if k < len(sp.excluded) {
		j1 = int(sp.excluded[k])
	}
	return j0, max(j0, j1), selfIn(sp.self, j0, j1)
}

// nearest returns the column and distance of the nearest negative, or -1.
func (sp span) nearest(row []float32) (int, float32) {
	best, bestDist := -1, float32(0)
	for k := range sp.pieces() {
		j0, j1, self := sp.piece(k, len(row))
		j, v := asm.HardestNegative(row[j0:j1], sp.labels[j0:j1], sp.label, self)
		if j >= 0 && (best < 0 || v < bestDist) {
			best, bestDist = j0+j, v
		}
	}
	return best, bestDist
}

// nearestAbove returns the column and distance of the nearest negative
// strictly farther than t, or -1.
func (sp span) nearestAbove(row []float32, t float32) (int, float32) {
	best, bestDist := -1, float32(0)
	for k := range sp.pieces() {
		j0, j1, self := sp.piece(k, len(row))
		j, v := asm.SemiHardNegative(row[j0:j1], sp.labels[j0:j1], sp.label, self, t)
		if j >= 0 && (best < 0 || v < bestDist) {
			best, bestDist = j0+j, v
		}
	}
	return best, bestDist
}

// hingeSum returns the sum of max(t - d, 0) over the negatives and the
// number of negatives nearer than t.
func (sp span) hingeSum(row []float32, t float32) (float64, int) {
	var sum float64
	count := 0
	for k := range sp.pieces() {
		j0, j1, self := sp.piece(k, len(row))
		s, c := asm.HingeSum(row[j0:j1], sp.labels[j0:j1], sp.label, self, t)
		sum += s
		count += c
	}
	return sum, count
}

// addHingeCounts adds w to dst at every negative nearer than t.
func (sp span) addHingeCounts(dst, row []float32, t, w float32) {
	for k := range sp.pieces() {
		j0, j1, self := sp.piece(k, len(row))
		asm.AddHingeCounts(dst[j0:j1], row[j0:j1], sp.labels[j0:j1], sp.label, self, t, w)
	}
}

// each calls f with every negative's column, in order.
func (sp span) each(row []float32, f func(j int)) {
	for k := range sp.pieces() {
		j0, j1, self := sp.piece(k, len(row))
		for j := j0; j < j1; j++ {
			if sp.labels[j] != sp.label && j-j0 != self {
				f(j)
			}
		}
	}
}
