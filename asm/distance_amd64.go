//go:build gc && !purego

package asm

// The assembly kernels take raw pointers: the Go wrappers below have
// checked every shape, and each call gets at least one row.

// tile runs one piece of SquaredDistances or InnerProducts at the current
// level.
func tile(kind pairKind, dst []float32, ldDst int, q, r []float32, dim int) {
	nq, nr := len(q)/dim, len(r)/dim
	level := Current()
	if level > Generic {
		raceReadFloats(q)
		raceReadFloats(r)
		for i := range nq {
			raceWriteFloats(dst[i*ldDst : i*ldDst+nr])
		}
	}

	switch {
	case level == AVX512 && kind == squaredDistance:
		sqDistAVX512(&dst[0], ldDst, &q[0], nq, &r[0], nr, dim)
	case level == AVX512:
		dotAVX512(&dst[0], ldDst, &q[0], nq, &r[0], nr, dim)
	case level == AVX2 && kind == squaredDistance:
		sqDistAVX2(&dst[0], ldDst, &q[0], nq, &r[0], nr, dim)
	case level == AVX2:
		dotAVX2(&dst[0], ldDst, &q[0], nq, &r[0], nr, dim)
	case kind == squaredDistance:
		sqDistGeneric(dst, ldDst, q, r, dim)
	default:
		dotGeneric(dst, ldDst, q, r, dim)
	}
}
