//go:build gc && !purego

package asm

import "github.com/klauspost/cpuid/v2"

// levelFeatures lists, for each level above Generic, every CPU feature its
// kernels use; a test checks the generated assembly against it.
var levelFeatures = map[Level][]cpuid.FeatureID{
	AVX2:   {cpuid.AVX, cpuid.AVX2, cpuid.FMA3},
	AVX512: {cpuid.AVX, cpuid.AVX2, cpuid.FMA3, cpuid.AVX512F},
}

// hardwareLevel returns the highest level whose features the CPU and the
// operating system support (cpuid checks that the OS saves the registers).
func hardwareLevel() Level {
	for _, l := range []Level{AVX512, AVX2} {
		if cpuid.CPU.Supports(levelFeatures[l]...) {
			return l
		}
	}
	return Generic
}
