//go:build !amd64 || !gc || purego

package asm

// maxSame runs the HardestPositive reduction of one chunk in Go.
func maxSame(row []float32, labels []int32, label int32, self int) (int, float32) {
	return maxSameGeneric(row, labels, label, self)
}

// minOther runs the HardestNegative reduction of one chunk in Go.
func minOther(row []float32, labels []int32, label int32, self int) (int, float32) {
	return minOtherGeneric(row, labels, label, self)
}

// minOtherAbove runs the SemiHardNegative reduction of one chunk in Go.
func minOtherAbove(row []float32, labels []int32, label int32, self int,
	threshold float32) (int, float32) {

	return minOtherAboveGeneric(row, labels, label, self, threshold)
}

// hingeOther runs the HingeSum reduction of one chunk in Go.
func hingeOther(row []float32, labels []int32, label int32, self int,
	t float32) (float64, int) {

	return hingeOtherGeneric(row, labels, label, self, t)
}

// addHinge runs the AddHingeCounts update of one chunk in Go.
func addHinge(dst, row []float32, labels []int32, label int32, self int, t, w float32) {
	addHingeGeneric(dst, row, labels, label, self, t, w)
}
