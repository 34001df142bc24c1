package sampler_test

import (
	"fmt"

	"github.com/tripletmine/triplet/sampler"
)

func Example() {
	// Ten rows: class 7 has three rows, class 8 four, class 9 two and
	// class 5 one, too few for K = 2.
	labels := []int32{7, 8, 9, 7, 8, 5, 9, 8, 7, 8}
	s, err := sampler.New(labels, sampler.Config{P: 2, K: 2, Seed: 1})
	if err != nil {
		panic(err)
	}
	fmt.Println("classes", s.Classes(), "skipped", s.Skipped())
	fmt.Println("batches per epoch", s.BatchesPerEpoch())

	// Class 7 is dealt rows 8 and 3, then row 0, the last of its first
	// round, with row 3 from its second round.
	for rows, labels := range s.Batches(4) {
		fmt.Println("rows", rows, "labels", labels)
	}
	// Output:
	// classes [7 8 9] skipped [5]
	// batches per epoch 3
	// rows [6 2 8 3] labels [9 9 7 7]
	// rows [4 9 0 3] labels [8 8 7 7]
	// rows [1 7 2 6] labels [8 8 9 9]
	// rows [2 6 1 4] labels [9 9 8 8]
}
