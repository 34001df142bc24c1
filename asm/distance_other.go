//go:build !amd64 || !gc || purego

package asm

// pairs runs SquaredDistances or InnerProducts in Go.
func pairs(kind pairKind, dst []float32, ldDst int, q, r []float32, dim int) {
	genericTiles(kind, dst, ldDst, q, r, dim)
}
