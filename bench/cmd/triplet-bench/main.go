// Command triplet-bench times the triplet library at every instruction set
// level the machine offers against the same mining written with gonum, on
// PK batches of 128-dimensional embeddings, forward and backward, and
// prints the comparison as a markdown table.
//
// Usage:
//
//	triplet-bench [-n 256,1024,4096] [-strategies batchall,batchhard,semihard]
//		[-budget 500ms] [-svg file]
//
// Progress goes to standard error. -svg also draws time per call against
// n on log-log axes. Run from the bench directory of the repository:
//
//	go run ./cmd/triplet-bench -svg times.svg
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/tripletmine/triplet/bench"
)

func main() {
	if err := bench.Main(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "triplet-bench:", err)
		os.Exit(2)
	}
}
