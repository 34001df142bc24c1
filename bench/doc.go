// Package bench compares the library with what a Go user would otherwise
// write, and holds the command that reports the comparison.
package bench
