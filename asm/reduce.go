package asm

import (
	"fmt"
	"math"
)

// reduceChunk bounds the row length that one assembly call reduces, so
// that lane indices fit in int32 and no call runs for long.
const reduceChunk = 1 << 16

// HardestPositive returns the index and value of the largest row[j] among
// the positives of an anchor: the j with labels[j] == label and j != self.
// Ties go to the lowest index. With no positive it returns -1 and 0. A self
// outside [0, len(row)) excludes nothing.
//
// row is one anchor's distance row and labels the labels of its columns;
// it panics if their lengths differ. Values must be finite.
func HardestPositive(row []float32, labels []int32, label int32, self int) (int, float32) {
	self = checkRow(row, labels, self)
	best, bestValue := -1, float32(0)
	for j0 := 0; j0 < len(row); j0 += reduceChunk {
		j1 := min(j0+reduceChunk, len(row))
		j, v := maxSame(row[j0:j1], labels[j0:j1], label, chunkSelf(self, j0, j1))
		if j >= 0 && (best < 0 || v > bestValue) {
			best, bestValue = j0+j, v
		}
	}
	return best, bestValue
}

// HardestNegative returns the index and value of the smallest row[j] among
// the negatives of an anchor: the j with labels[j] != label and j != self.
// Ties go to the lowest index. With no negative it returns -1 and 0. Shapes
// and panics are those of HardestPositive.
func HardestNegative(row []float32, labels []int32, label int32, self int) (int, float32) {
	self = checkRow(row, labels, self)
	best, bestValue := -1, float32(0)
	for j0 := 0; j0 < len(row); j0 += reduceChunk {
		j1 := min(j0+reduceChunk, len(row))
		j, v := minOther(row[j0:j1], labels[j0:j1], label, chunkSelf(self, j0, j1))
		if j >= 0 && (best < 0 || v < bestValue) {
			best, bestValue = j0+j, v
		}
	}
	return best, bestValue
}

// SemiHardNegative returns the index and value of the smallest row[j]
// among the negatives of an anchor (labels[j] != label, j != self) that are
// strictly greater than threshold, the anchor-positive distance in FaceNet's
// semi-hard rule. Ties go to the lowest index. With no such negative it
// returns -1 and 0. Shapes and panics are those of HardestPositive.
func SemiHardNegative(row []float32, labels []int32, label int32, self int,
	threshold float32) (int, float32) {

	self = checkRow(row, labels, self)
	best, bestValue := -1, float32(0)
	for j0 := 0; j0 < len(row); j0 += reduceChunk {
		j1 := min(j0+reduceChunk, len(row))
		s := chunkSelf(self, j0, j1)
		j, v := minOtherAbove(row[j0:j1], labels[j0:j1], label, s, threshold)
		if j >= 0 && (best < 0 || v < bestValue) {
			best, bestValue = j0+j, v
		}
	}
	return best, bestValue
}

// HingeSum sums the hinge max(t - row[j], 0) over the negatives of an
// anchor (labels[j] != label, j != self) and counts the negatives with
// row[j] < t, the ones whose hinge is positive. With t = d(a,p) + margin it
// gives the batch-all loss of one anchor-positive pair and its number of
// active triplets. Differences and the sum are taken in float64. Shapes and
// panics are those of HardestPositive.
func HingeSum(row []float32, labels []int32, label int32, self int, t float32) (sum float64,
	count int) {

	self = checkRow(row, labels, self)
	for j0 := 0; j0 < len(row); j0 += reduceChunk {
		j1 := min(j0+reduceChunk, len(row))
		s, c := hingeOther(row[j0:j1], labels[j0:j1], label, chunkSelf(self, j0, j1), t)
		sum += s
		count += c
	}
	return sum, count
}

// chunkSelf returns the column of self within the chunk [j0, j1) of a
// row, or -1 if self lies outside it.
func chunkSelf(self, j0, j1 int) int {
	if self < j0 || self >= j1 {
		return -1
	}
	return self - j0
}

// checkRow panics if a distance row and its labels differ in length, and
// returns self, or -1 if self is not a column of the row.
func checkRow(row []float32, labels []int32, self int) int {
	if len(row) != len(labels) {
		panic(fmt.Sprintf("asm: row has %d values but %d labels", len(row), len(labels)))
	}
	if self < 0 || self >= len(row) {
		return -1
	}
	return self
}

// maxSameGeneric is the reference for HardestPositive on one chunk:
//
//	argmax row[j] over j != self with labels[j] == label
//
// taking the first j on ties and returning -1 when there is none.
func maxSameGeneric(row []float32, labels []int32, label int32, self int) (int, float32) {
	best, bestValue := -1, float32(math.Inf(-1))
	for j, v := range row {
		if labels[j] == label && j != self && (best < 0 || v > bestValue) {
			best, bestValue = j, v
		}
	}
	return best, bestValue
}

// minOtherGeneric is the reference for HardestNegative on one chunk:
//
//	argmin row[j] over j != self with labels[j] != label
func minOtherGeneric(row []float32, labels []int32, label int32, self int) (int, float32) {
	best, bestValue := -1, float32(math.Inf(1))
	for j, v := range row {
		if labels[j] != label && j != self && (best < 0 || v < bestValue) {
			best, bestValue = j, v
		}
	}
	return best, bestValue
}

// minOtherAboveGeneric is the reference for SemiHardNegative on one chunk:
//
//	argmin row[j] over j != self with labels[j] != label and row[j] > threshold
func minOtherAboveGeneric(row []float32, labels []int32, label int32, self int,
	threshold float32) (int, float32) {

	best, bestValue := -1, float32(math.Inf(1))
	for j, v := range row {
		if labels[j] != label && j != self && v > threshold && (best < 0 || v < bestValue) {
			best, bestValue = j, v
		}
	}
	return best, bestValue
}

// hingeOtherGeneric is the reference for HingeSum on one chunk:
//
//	Σ max(t - row[j], 0) and #{row[j] < t} over j != self with labels[j] != label
//
// with the differences and the sum in float64.
func hingeOtherGeneric(row []float32, labels []int32, label int32, self int,
	t float32) (sum float64, count int) {

	for j, v := range row {
		if labels[j] != label && j != self && v < t {
			sum += float64(t) - float64(v)
			count++
		}
	}
	return sum, count
}

// AddHingeCounts adds w to dst[j] for every negative of an anchor
// (labels[j] != label, j != self) with row[j] < t: the negatives whose
// hinge max(t - row[j], 0) is positive. With t = d(a,p) + margin and w the
// negated weight of a triplet, it writes one anchor-positive pair's share
// of the batch-all gradient with respect to the anchor's distance row.
// dst, row and labels must have the same length; it panics otherwise.
func AddHingeCounts(dst, row []float32, labels []int32, label int32, self int, t, w float32) {
	self = checkRow(row, labels, self)
	if len(dst) != len(row) {
		panic(fmt.Sprintf("asm: dst has %d values but the row %d", len(dst), len(row)))
	}
	for j0 := 0; j0 < len(row); j0 += reduceChunk {
		j1 := min(j0+reduceChunk, len(row))
		s := chunkSelf(self, j0, j1)
		addHinge(dst[j0:j1], row[j0:j1], labels[j0:j1], label, s, t, w)
	}
}

// addHingeGeneric is the reference for AddHingeCounts on one chunk:
//
//	dst[j] += w for j != self with labels[j] != label and row[j] < t
func addHingeGeneric(dst, row []float32, labels []int32, label int32, self int, t, w float32) {
	for j, v := range row {
		if labels[j] != label && j != self && v < t {
			dst[j] += w
		}
	}
}
