package bench

import "math/rand/v2"

// classSpread is the standard deviation of the class centres of PKBatch,
// in units of the spread of the samples around their centre. At 0.3 the
// classes overlap, as they do part-way through training: every strategy
// finds active triplets, so every backward pass has work to do.
const classSpread = 0.3

// PKBatch returns a batch of classes·k embeddings of dim values and their
// labels: k consecutive rows per class, each a normal sample around its
// class's centre, and the centres normal around the origin with standard
// deviation classSpread.
func PKBatch(rng *rand.Rand, classes, k, dim int) ([]float32, []int32) {
	embeddings := make([]float32, classes*k*dim)
	labels := make([]int32, classes*k)
	centre := make([]float64, dim)
	for class := range classes {
		for i := range centre {
			centre[i] = classSpread * rng.NormFloat64()
		}
		for s := range k {
			row := class*k + s
			labels[row] = int32(class)
			for i, c := range centre {
				embeddings[row*dim+i] = float32(c + rng.NormFloat64())
			}
		}
	}
	return embeddings, labels
}
