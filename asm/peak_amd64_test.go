//go:build gc && !purego

package asm

import "testing"

// BenchmarkFMAPeak measures the core's float32 fused multiply-add peak with
// loops that only touch registers (24 independent ZMM chains, or 14 YMM
// chains), counting a multiply-add as two flops. The distance kernels'
// GFLOP/s are read against this figure.
func BenchmarkFMAPeak(b *testing.B) {
	const rounds = 1 << 14
	for _, l := range []Level{AVX2, AVX512} {
		b.Run("isa="+l.String(), func(b *testing.B) {
			if l > Best() {
				b.Skipf("level %v is not available here", l)
			}
			var flops float64
			for b.Loop() {
				if l == AVX512 {
					fmaPeakAVX512(rounds)
					flops += rounds * 24 * 16 * 2
				} else {
					fmaPeakAVX2(rounds)
					flops += rounds * 14 * 8 * 2
				}
			}
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
