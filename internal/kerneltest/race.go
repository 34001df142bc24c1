//go:build race

package kerneltest

// Race reports whether the race detector is on. Its instrumentation
// allocates where ordinary builds do not, so allocation counts are
// checked only without it.
const Race = true
