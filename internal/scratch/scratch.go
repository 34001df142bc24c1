// Package scratch sizes the scratch slices that the library keeps between
// calls, so that calls with the shapes of an earlier one allocate nothing.
package scratch

// Grow returns s[:n], allocating a new zeroed slice only if s's capacity
// is below n. The values of a reused slice are whatever they were.
func Grow[E any](s []E, n int) []E {
	if cap(s) < n {
		return make([]E, n)
	}
	return s[:n]
}
