package triplet_test

import (
	"fmt"
	"math"

	"github.com/tripletmine/triplet"
)

// The batch of these examples: six one-dimensional embeddings of three
// classes (rows 0, 1, 4 are class 0; rows 2, 3 class 1; row 5 class 2).
// Anchor 2 is as near to row 0 as to row 1, and the tie goes to row 0;
// pairs (2, 3) and (4, 0) have no negative farther than their positive,
// so semi-hard falls back to the farthest negative.
var (
	exampleEmbeddings = []float32{0, 1, 0.5, 3, 2.5, 1.25}
	exampleLabels     = []int32{0, 0, 1, 1, 0, 2}
)

func ExampleMiner_Mine_batchHard() {
	m, err := triplet.NewMiner(triplet.Config{
		Strategy: triplet.BatchHard,
		Metric:   triplet.Euclidean,
		Margin:   1,
	})
	if err != nil {
		panic(err)
	}
	grad := make([]float32, len(exampleEmbeddings))
	res, err := m.Mine(exampleEmbeddings, 1, exampleLabels, grad)
	if err != nil {
		panic(err)
	}
	fmt.Printf("loss %.4f over %d anchors\n", res.Loss, res.Stats.Anchors)
	for _, t := range res.Triplets {
		fmt.Printf("anchor %d: hardest positive %d, hardest negative %d\n",
			t.Anchor, t.Positive, t.Negative)
	}
	fmt.Print("gradient:")
	for _, g := range grad {
		// Rounded to hundredths; "+ 0" turns a rounded -0 into 0.
		fmt.Printf(" %.2f", math.Round(float64(g)*100)/100+0)
	}
	fmt.Println()
	// Output:
	// loss 2.8500 over 5 anchors
	// anchor 0: hardest positive 4, hardest negative 2
	// anchor 1: hardest positive 4, hardest negative 5
	// anchor 2: hardest positive 3, hardest negative 0
	// anchor 3: hardest positive 2, hardest negative 4
	// anchor 4: hardest positive 0, hardest negative 3
	// gradient: 0.00 0.00 -0.80 0.00 1.00 -0.20
}

func ExampleMiner_Mine_batchAll() {
	m, err := triplet.NewMiner(triplet.Config{
		Strategy: triplet.BatchAll,
		Metric:   triplet.Euclidean,
		Margin:   1,
	})
	if err != nil {
		panic(err)
	}
	res, err := m.Mine(exampleEmbeddings, 1, exampleLabels, nil)
	if err != nil {
		panic(err)
	}
	s := res.Stats
	fmt.Printf("loss %.4f: %d of %d valid triplets active (%.0f%%)\n",
		res.Loss, s.Active, s.Triplets, 100*s.ActiveFraction)
	// Output:
	// loss 1.8125: 24 of 26 valid triplets active (92%)
}

func ExampleMiner_Mine_semiHard() {
	m, err := triplet.NewMiner(triplet.Config{
		Strategy: triplet.SemiHard,
		Metric:   triplet.Euclidean,
		Margin:   1,
	})
	if err != nil {
		panic(err)
	}
	res, err := m.Mine(exampleEmbeddings, 1, exampleLabels, nil)
	if err != nil {
		panic(err)
	}
	fmt.Printf("loss %.5f over %d anchor-positive pairs\n", res.Loss, res.Stats.Pairs)
	for _, t := range res.Triplets {
		fmt.Printf("(%d, %d) → negative %d\n", t.Anchor, t.Positive, t.Negative)
	}
	// Output:
	// loss 0.71875 over 8 anchor-positive pairs
	// (0, 1) → negative 5
	// (0, 4) → negative 3
	// (1, 0) → negative 3
	// (1, 4) → negative 3
	// (2, 3) → negative 4
	// (3, 2) → negative 0
	// (4, 0) → negative 2
	// (4, 1) → negative 2
}

// A gallery of references, mined against with batch-hard: the anchors are
// the batch's rows and the candidates the references, numbered after the
// batch (here 2 + j for reference j). Reference 0 is anchor 0's own sample
// (same id) and is never its candidate, so anchor 0's hardest positive is
// reference 4 at 2.5 and its nearest negative reference 2 at 1: loss
// 2.5 - 1 + 1; anchor 1's are reference 2 at 2 and reference 4 at 0.5.
func ExampleMiner_MineRefs() {
	m, err := triplet.NewMiner(triplet.Config{
		Strategy: triplet.BatchHard,
		Metric:   triplet.Euclidean,
		Margin:   1,
	})
	if err != nil {
		panic(err)
	}
	batch, labels, ids := []float32{0, 3}, []int32{0, 1}, []int64{100, 101}
	refs := triplet.Refs{
		Rows:   []float32{0, 2, 1, 4, 2.5},
		Labels: []int32{0, 0, 1, 1, 0},
		IDs:    []int64{100, 200, 201, 202, 203},
	}
	res, err := m.MineRefs(batch, 1, labels, ids, refs, nil)
	if err != nil {
		panic(err)
	}
	fmt.Printf("loss %.4f\n", res.Loss)
	for _, t := range res.Triplets {
		fmt.Printf("anchor %d: positive %d, negative %d\n", t.Anchor, t.Positive, t.Negative)
	}
	// Output:
	// loss 2.5000
	// anchor 0: positive 6, negative 4
	// anchor 1: positive 4, negative 6
}

// A cross-batch memory: each batch is mined against itself and the rows
// of the batches before it, once the bank holds enough of them, and then
// joins the bank, whose oldest rows make room once it is full.
func ExampleMiner_MineBank() {
	m, err := triplet.NewMiner(triplet.Config{Strategy: triplet.BatchHard, Margin: 0.5})
	if err != nil {
		panic(err)
	}
	bank, err := triplet.NewBank(6, 1, 4)
	if err != nil {
		panic(err)
	}
	batches := [][]float32{{0, 0.2, 1, 1.1}, {0.1, 0.3, 0.9, 1.3}, {0.05, 0.6, 0.8, 1}}
	labels := []int32{0, 0, 1, 1}
	for i, rows := range batches {
		res, err := m.MineBank(rows, 1, labels, nil, bank, nil)
		if err != nil {
			panic(err)
		}
		fmt.Printf("batch %d: loss %.4f, bank holds %d rows\n", i, res.Loss, bank.Len())
	}
	// Output:
	// batch 0: loss 0.0000, bank holds 4 rows
	// batch 1: loss 0.1325, bank holds 6 rows
	// batch 2: loss 0.5356, bank holds 6 rows
}
