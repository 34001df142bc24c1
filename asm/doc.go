// Package asm holds the hot loops of the triplet library: distances between
// blocks of rows, inner products row by row, masked reductions over one
// distance row, elementwise updates (square roots, scaled additions, the
// Euclidean chain rule) and transposes of blocks of a matrix.
//
// Every kernel exists in three forms: a plain Go reference (the generic
// level), AVX2 with FMA, and AVX-512. One level is chosen once at start-up
// from cpuid; the environment variable TRIPLET_ISA=generic|avx2|avx512 caps
// it, and SetLevel forces a lower one (for tests and benchmarks). Building
// with -tags purego, or for another architecture, uses the Go code only.
//
// The kernels check shapes and panic on mismatched lengths: they are meant
// for the rest of this module, which validates user input first. Unless a
// kernel's documentation says otherwise, they assume finite inputs: NaN and
// ±Inf give unspecified (but memory-safe) results.
package asm

//go:generate go run -C ../gen ./distance -out ../asm/distance_amd64.s -stubs ../asm/distance_stubs_amd64.go -pkg asm
//go:generate go run -C ../gen ./reduce -out ../asm/reduce_amd64.s -stubs ../asm/reduce_stubs_amd64.go -pkg asm
//go:generate go run -C ../gen ./elementwise -out ../asm/elementwise_amd64.s -stubs ../asm/elementwise_stubs_amd64.go -pkg asm
//go:generate go run -C ../gen ./transpose -out ../asm/transpose_amd64.s -stubs ../asm/transpose_stubs_amd64.go -pkg asm
//go:generate go run -C ../gen ./peak -out ../asm/peak_amd64.s -stubs ../asm/peak_stubs_amd64.go -pkg asm
