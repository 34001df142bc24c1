//go:build race && gc && !purego && amd64

package asm

import (
	"runtime"
	"unsafe"
)

// The race detector does not see memory that assembly touches, so the
// wrappers report it before each call.

func raceReadFloats(s []float32) {
	if len(s) > 0 {
		runtime.RaceReadRange(unsafe.Pointer(&s[0]), len(s)*4)
	}
}

func raceReadInts(s []int32) {
	if len(s) > 0 {
		runtime.RaceReadRange(unsafe.Pointer(&s[0]), len(s)*4)
	}
}

func raceWriteFloats(s []float32) {
	if len(s) > 0 {
		runtime.RaceWriteRange(unsafe.Pointer(&s[0]), len(s)*4)
	}
}
