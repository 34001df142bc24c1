// Package bench compares the triplet library with the code a Go programmer
// would write without it: the Gram matrix of the batch from gonum, the
// distances from the expansion ||x||² + ||y||² - 2x·y, and plain loops for
// the positives, negatives, selections and reductions, with the same
// semantics as the library (see GonumMiner).
//
// Report runs the comparison on PK batches at every instruction set level
// the machine offers and writes a markdown table, and optionally an SVG
// plot; the command triplet-bench in cmd/triplet-bench is its front end.
//
// The package lives in a module of its own, so that the library's module
// never requires gonum.
package bench
