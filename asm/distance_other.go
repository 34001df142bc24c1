//go:build !amd64 || !gc || purego

package asm

// tile runs one piece of SquaredDistances or InnerProducts in Go.
func tile(kind pairKind, dst []float32, ldDst int, q, r []float32, dim int) {
	if kind == squaredDistance {
		sqDistGeneric(dst, ldDst, q, r, dim)
		return
	}
	dotGeneric(dst, ldDst, q, r, dim)
}
