//go:build gc && !purego

package asm

// The assembly kernels take raw pointers: the Go wrappers below have
// checked every shape, and each call gets at least one row.

// The panel that the assembly levels pack reference rows into, and the
// scratch block for the last, partial vector of a panel's columns, live
// on the stack of the calling goroutine: 68 KB, or 12 KB when the
// reference rows fit in a small panel, since Go clears the arrays of every
// call. A panel holds up to a level's panel width of reference rows (16
// for AVX2, 64 for AVX-512), one dimension after the other, for as many
// dimensions as fit; longer rows go through several panels, each kernel
// call adding to the sums the previous one stored.
const (
	panelFloats      = 1 << 14
	smallPanelFloats = 1 << 11
	edgeFloats       = 1 << 10
)

// pairs runs SquaredDistances or InnerProducts at the current level.
func pairs(kind pairKind, dst []float32, ldDst int, q, r []float32, dim int) {
	level := Current()
	if level == Generic {
		genericTiles(kind, dst, ldDst, q, r, dim)
		return
	}
	nq, nr := len(q)/dim, len(r)/dim
	raceReadFloats(q)
	raceReadFloats(r)
	for i := range nq {
		raceWriteFloats(dst[i*ldDst : i*ldDst+nr])
	}

	lanes, width := 8, 16
	if level == AVX512 {
		lanes, width = 16, 64
	}
	if panelColumns(nr, lanes, width)*dim <= smallPanelFloats {
		var buf [smallPanelFloats + edgeFloats]float32
		panels(level, kind, buf[:smallPanelFloats], buf[smallPanelFloats:], lanes, width,
			dst, ldDst, q, r, dim)
		return
	}
	var buf [panelFloats + edgeFloats]float32
	panels(level, kind, buf[:panelFloats], buf[panelFloats:], lanes, width, dst, ldDst, q, r,
		dim)
}

// panels pairs the query rows with the reference rows a panel at a time.
//
// It packs up to width reference rows, dimension-major, into panel, so
// that one vector holds one dimension of lanes references, and pairs
// every query row with the panel. Columns that fill whole vectors go
// straight into dst; the rest of the last panel, padded with zero columns
// to one vector, goes through edge, so that no kernel writes outside the
// pairs it computes. The kernels sum each pair's terms in the order of k
// whatever the panel, so a pair's bits do not depend on where it sits.
func panels(level Level, kind pairKind, panel, edge []float32, lanes, width int,
	dst []float32, ldDst int, q, r []float32, dim int) {

	nq, nr := len(q)/dim, len(r)/dim
	steps := min(dim, len(panel)/panelColumns(nr, lanes, width))
	edgeRows := len(edge) / lanes

	for j0 := 0; j0 < nr; j0 += width {
		cols := min(width, nr-j0)
		whole := cols / lanes * lanes
		for k0 := 0; k0 < dim && whole > 0; k0 += steps {
			kb := min(steps, dim-k0)
			Transpose(panel, whole, r[j0*dim+k0:], dim, whole, kb)
			callRows := max(1, callWork/(whole*kb))
			for i0 := 0; i0 < nq; i0 += callRows {
				pairKernel(level, kind, &dst[i0*ldDst+j0], ldDst, &q[i0*dim+k0], dim,
					min(callRows, nq-i0), &panel[0], whole, whole/lanes, kb, k0 > 0)
			}
		}

		part := cols - whole
		if part == 0 {
			continue
		}
		for i0 := 0; i0 < nq; i0 += edgeRows {
			rows := min(edgeRows, nq-i0)
			for k0 := 0; k0 < dim; k0 += steps {
				kb := min(steps, dim-k0)
				if i0 == 0 || kb < dim {
					clear(panel[:kb*lanes])
					Transpose(panel, lanes, r[(j0+whole)*dim+k0:], dim, part, kb)
				}
				pairKernel(level, kind, &edge[0], lanes, &q[i0*dim+k0], dim, rows,
					&panel[0], lanes, 1, kb, k0 > 0)
			}
			for i := range rows {
				copy(dst[(i0+i)*ldDst+j0+whole:][:part], edge[i*lanes:])
			}
		}
	}
}

// panelColumns returns the columns of the widest panel that nr reference
// rows fill: at most width, and whole vectors of lanes columns.
func panelColumns(nr, lanes, width int) int {
	return min(width, (nr+lanes-1)/lanes*lanes)
}

// pairKernel runs the kernel of a level and kind on one block.
func pairKernel(level Level, kind pairKind, dst *float32, ldDst int, q *float32, ldQ, nq int,
	panel *float32, ldPanel, vectors, steps int, accumulate bool) {

	switch {
	case level == AVX512 && kind == squaredDistance:
		sqDistAVX512(dst, ldDst, q, ldQ, nq, panel, ldPanel, vectors, steps, accumulate)
	case level == AVX512:
		dotAVX512(dst, ldDst, q, ldQ, nq, panel, ldPanel, vectors, steps, accumulate)
	case kind == squaredDistance:
		sqDistAVX2(dst, ldDst, q, ldQ, nq, panel, ldPanel, vectors, steps, accumulate)
	default:
		dotAVX2(dst, ldDst, q, ldQ, nq, panel, ldPanel, vectors, steps, accumulate)
	}
}
