//go:build linux

package kerneltest

import (
	"syscall"
	"testing"
	"unsafe"
)

// GuardPages reports whether Floats and Int32s place their slices next to
// inaccessible pages on this system, so that a stray access faults.
const GuardPages = true

// guarded maps size bytes between two PROT_NONE pages and returns the
// usable part, placed flush against the page after it when back is true
// and against the page before it otherwise. The mapping goes away when the
// test ends.
func guarded(t testing.TB, size int, back bool) unsafe.Pointer {
	t.Helper()
	page := syscall.Getpagesize()
	body := (size + page - 1) / page * page
	mem, err := syscall.Mmap(-1, 0, body+2*page,
		syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatalf("mmap: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Munmap(mem) })

	if err := syscall.Mprotect(mem[:page], syscall.PROT_NONE); err != nil {
		t.Fatalf("mprotect: %v", err)
	}
	if err := syscall.Mprotect(mem[page+body:], syscall.PROT_NONE); err != nil {
		t.Fatalf("mprotect: %v", err)
	}
	start := page
	if back {
		start = page + body - size
	}
	return unsafe.Pointer(&mem[start])
}
