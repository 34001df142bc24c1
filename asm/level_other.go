//go:build !amd64 || !gc || purego

package asm

// hardwareLevel is Generic where this build has no assembly.
func hardwareLevel() Level { return Generic }
