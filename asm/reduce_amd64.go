//go:build gc && !purego

package asm

// maxSame runs the HardestPositive reduction of one chunk.
func maxSame(row []float32, labels []int32, label int32, self int) (int, float32) {
	switch Current() {
	case AVX512:
		raceReadRow(row, labels)
		return maxSameAVX512(&row[0], &labels[0], len(row), label, self)
	case AVX2:
		raceReadRow(row, labels)
		return maxSameAVX2(&row[0], &labels[0], len(row), label, self)
	}
	return maxSameGeneric(row, labels, label, self)
}

// minOther runs the HardestNegative reduction of one chunk.
func minOther(row []float32, labels []int32, label int32, self int) (int, float32) {
	switch Current() {
	case AVX512:
		raceReadRow(row, labels)
		return minOtherAVX512(&row[0], &labels[0], len(row), label, self)
	case AVX2:
		raceReadRow(row, labels)
		return minOtherAVX2(&row[0], &labels[0], len(row), label, self)
	}
	return minOtherGeneric(row, labels, label, self)
}

// minOtherAbove runs the SemiHardNegative reduction of one chunk.
func minOtherAbove(row []float32, labels []int32, label int32, self int,
	threshold float32) (int, float32) {

	switch Current() {
	case AVX512:
		raceReadRow(row, labels)
		return minOtherAboveAVX512(&row[0], &labels[0], len(row), label, self, threshold)
	case AVX2:
		raceReadRow(row, labels)
		return minOtherAboveAVX2(&row[0], &labels[0], len(row), label, self, threshold)
	}
	return minOtherAboveGeneric(row, labels, label, self, threshold)
}

// hingeOther runs the HingeSum reduction of one chunk.
func hingeOther(row []float32, labels []int32, label int32, self int,
	t float32) (float64, int) {

	switch Current() {
	case AVX512:
		raceReadRow(row, labels)
		return hingeOtherAVX512(&row[0], &labels[0], len(row), label, self, t)
	case AVX2:
		raceReadRow(row, labels)
		return hingeOtherAVX2(&row[0], &labels[0], len(row), label, self, t)
	}
	return hingeOtherGeneric(row, labels, label, self, t)
}

// raceReadRow tells the race detector that a reduction reads a row and its
// labels.
func raceReadRow(row []float32, labels []int32) {
	raceReadFloats(row)
	raceReadInts(labels)
}

// addHinge runs the AddHingeCounts update of one chunk.
func addHinge(dst, row []float32, labels []int32, label int32, self int, t, w float32) {
	switch Current() {
	case AVX512:
		raceReadRow(row, labels)
		raceWriteFloats(dst)
		addHingeAVX512(&dst[0], &row[0], &labels[0], len(row), label, self, t, w)
		return
	case AVX2:
		raceReadRow(row, labels)
		raceWriteFloats(dst)
		addHingeAVX2(&dst[0], &row[0], &labels[0], len(row), label, self, t, w)
		return
	}
	addHingeGeneric(dst, row, labels, label, self, t, w)
}
