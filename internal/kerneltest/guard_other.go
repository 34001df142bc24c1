//go:build !linux

package kerneltest

import (
	"testing"
	"unsafe"
)

// GuardPages reports whether Floats and Int32s place their slices next to
// inaccessible pages on this system; here they are ordinary memory.
const GuardPages = false

func guarded(t testing.TB, size int, back bool) unsafe.Pointer {
	buf := make([]uint64, (size+7)/8+1)
	return unsafe.Pointer(&buf[0])
}
