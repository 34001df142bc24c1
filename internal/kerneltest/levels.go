// Package kerneltest helps the tests of this module run code at every
// instruction set level and catch kernels that touch memory outside their
// slices. Only tests import it.
package kerneltest

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/tripletmine/triplet/asm"
)

// RequireEnv names the environment variable that lists, comma-separated,
// the levels a test run must be able to exercise. A listed level that the
// machine (or TRIPLET_ISA) does not allow fails the run instead of being
// silently left out.
const RequireEnv = "TRIPLET_REQUIRE_ISA"

// CheckRequired fails t for every level named in TRIPLET_REQUIRE_ISA that
// asm.Levels does not offer, and for names that are not levels.
func CheckRequired(t testing.TB) {
	t.Helper()
	for name := range strings.SplitSeq(os.Getenv(RequireEnv), ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		l, err := asm.ParseLevel(name)
		if err != nil {
			t.Errorf("%s: %v", RequireEnv, err)
			continue
		}
		if !slices.Contains(asm.Levels(), l) {
			t.Errorf("%s requires level %v, but this machine offers only %v",
				RequireEnv, l, asm.Levels())
		}
	}
}

// Run runs f in a subtest named "isa=<level>" for every level that
// asm.Levels offers, with the kernels forced to that level, and restores
// the level afterwards. It logs the levels it ran and fails for required
// levels that are missing.
func Run(t *testing.T, f func(t *testing.T, level asm.Level)) {
	t.Helper()
	CheckRequired(t)
	for _, l := range asm.Levels() {
		t.Run("isa="+l.String(), func(t *testing.T) {
			defer Force(t, l)()
			f(t, l)
		})
	}
}

// Force sets the kernels' level to l and returns the function that puts
// the previous one back. It fails t if l is not available.
func Force(t testing.TB, l asm.Level) (restore func()) {
	t.Helper()
	restore, err := asm.SetLevel(l)
	if err != nil {
		t.Fatal(err)
	}
	return restore
}

// Bench runs f as a sub-benchmark named "isa=<level>" for every level that
// asm.Levels offers, forcing that level while it runs.
func Bench(b *testing.B, f func(b *testing.B)) {
	for _, l := range asm.Levels() {
		b.Run("isa="+l.String(), func(b *testing.B) {
			defer Force(b, l)()
			f(b)
		})
	}
}

// Offsets returns the offsets, in float32s, at which tests start a slice
// into its allocation: all sixteen positions in a 64-byte cache line, or
// with -short the first eight and the last, which still start a slice on
// every 4-byte residue of a 16- and 32-byte vector.
func Offsets() []int {
	if testing.Short() {
		return []int{0, 1, 2, 3, 4, 5, 6, 7, 15}
	}
	return []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
}
