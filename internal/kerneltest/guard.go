package kerneltest

import (
	"math"
	"os"
	"testing"
	"unsafe"

	"github.com/tripletmine/triplet/asm"
)

// Floats returns n float32s that sit flush against an inaccessible page:
// the page right after the last element when back is true, the page right
// before the first one otherwise. Reading or writing past either end
// faults. The memory is freed when the test ends.
func Floats(t testing.TB, n int, back bool) []float32 {
	t.Helper()
	if n == 0 {
		return []float32{}
	}
	return unsafe.Slice((*float32)(guarded(t, 4*n, back)), n)
}

// Int32s is Floats for int32 labels.
func Int32s(t testing.TB, n int, back bool) []int32 {
	t.Helper()
	if n == 0 {
		return []int32{}
	}
	return unsafe.Slice((*int32)(guarded(t, 4*n, back)), n)
}

// Fence is a value written around a slice to catch stray writes: a NaN
// with a payload that no arithmetic produces.
var Fence = math.Float32frombits(0x7fa5a5a5)

// Fenced returns a slice of n float32s that starts offset elements into a
// larger buffer, with Fence values on both sides, and the whole buffer.
// CheckFence reports a stray write.
func Fenced(n, offset int) (s, whole []float32) {
	whole = make([]float32, offset+n+fenceWidth)
	for i := range whole {
		whole[i] = Fence
	}
	return whole[offset : offset+n], whole
}

// fenceWidth is how many fence values follow a fenced slice.
const fenceWidth = 32

// CheckFence fails t if any element of whole outside [offset, offset+n)
// no longer holds the fence value.
func CheckFence(t testing.TB, whole []float32, n, offset int) {
	t.Helper()
	for i, v := range whole {
		if (i < offset || i >= offset+n) && math.Float32bits(v) != math.Float32bits(Fence) {
			t.Fatalf("fence at %d (slice is [%d, %d)) was overwritten with %v",
				i, offset, offset+n, v)
		}
	}
}

// EmulatedEnv names the environment variable that says the tests run under
// an emulator (CI sets it for its qemu-user runs). QEMU 7 carries out
// VMASKMOVPS and VPMASKMOVD loads by reading the whole vector before
// masking it, so the masked-off lanes of a tail fault on a guard page
// where a CPU does not read them.
const EmulatedEnv = "TRIPLET_EMULATED"

// SkipGuardsUnderEmulation skips a guard-page test of the avx2 level when
// EmulatedEnv is set, saying why; native runs test every level.
func SkipGuardsUnderEmulation(t testing.TB, level asm.Level) {
	t.Helper()
	if os.Getenv(EmulatedEnv) != "" && level == asm.AVX2 {
		t.Skipf("%s is set: the emulator's masked loads read masked-off lanes, "+
			"so guard pages would fault where the CPU reads nothing", EmulatedEnv)
	}
}

// SkipUnderEmulation skips a test that exercises no level-specific code
// (allocation counts, worker schedules) when EmulatedEnv is set: the
// emulator runs it tens of times slower and native runs already cover it.
func SkipUnderEmulation(t testing.TB, subject string) {
	t.Helper()
	if os.Getenv(EmulatedEnv) != "" {
		t.Skipf("%s is set: %s does not depend on the level, and native runs test it",
			EmulatedEnv, subject)
	}
}
