//go:build gc && !purego

package asm

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/cpuid/v2"
)

// asmFunction is one TEXT block of a generated .s file.
type asmFunction struct {
	file, name string
	requires   []string
	lines      []string
}

// readAssembly splits the generated .s files of the package into their
// functions, with the features avo listed in each one's "// Requires:"
// comment.
func readAssembly(t *testing.T) []asmFunction {
	t.Helper()
	files, err := filepath.Glob("*_amd64.s")
	if err != nil || len(files) == 0 {
		t.Fatalf("no generated assembly found (%v)", err)
	}
	var fns []asmFunction
	for _, file := range files {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var requires []string
		for line := range strings.SplitSeq(string(text), "\n") {
			line = strings.TrimSpace(line)
			switch {
			case strings.HasPrefix(line, "// Requires:"):
				for f := range strings.SplitSeq(strings.TrimPrefix(line, "// Requires:"), ",") {
					requires = append(requires, strings.TrimSpace(f))
				}
			case strings.HasPrefix(line, "TEXT "):
				name := strings.TrimPrefix(strings.Fields(line)[1], "·")
				name = strings.TrimSuffix(name, "(SB),")
				fns = append(fns, asmFunction{file: file, name: name, requires: requires})
				requires = nil
			case len(fns) > 0 && line != "":
				fns[len(fns)-1].lines = append(fns[len(fns)-1].lines, line)
			}
		}
	}
	return fns
}

var wideRegister = regexp.MustCompile(`\b[YZ]\d+\b`)

// TestVZEROUPPER checks that every generated function that touches a YMM
// or ZMM register clears their upper halves before each return, which avo
// does not do by itself; without it, SSE code that runs next slows down.
func TestVZEROUPPER(t *testing.T) {
	for _, fn := range readAssembly(t) {
		wide := slices.ContainsFunc(fn.lines, wideRegister.MatchString)
		returns := 0
		for i, line := range fn.lines {
			if line != "RET" {
				continue
			}
			returns++
			if wide && (i == 0 || fn.lines[i-1] != "VZEROUPPER") {
				t.Errorf("%s: %s returns without VZEROUPPER", fn.file, fn.name)
			}
		}
		if returns == 0 {
			t.Errorf("%s: %s has no RET", fn.file, fn.name)
		}
	}
}

// TestRequiredFeatures checks that each generated function's "// Requires:"
// features are part of the dispatch condition of the level its name ends
// in, so that no level runs an instruction the CPU check did not cover.
func TestRequiredFeatures(t *testing.T) {
	// SSE and SSE2 are part of every amd64 CPU.
	baseline := []string{"SSE", "SSE2"}
	for _, fn := range readAssembly(t) {
		var level Level
		switch {
		case strings.HasSuffix(fn.name, "AVX512"):
			level = AVX512
		case strings.HasSuffix(fn.name, "AVX2"):
			level = AVX2
		default:
			t.Errorf("%s: %s does not end in a level name", fn.file, fn.name)
			continue
		}
		if len(fn.requires) == 0 {
			t.Errorf("%s: %s has no Requires line", fn.file, fn.name)
		}
		for _, feature := range fn.requires {
			if slices.Contains(baseline, feature) {
				continue
			}
			id := cpuid.ParseFeature(feature)
			if id == cpuid.UNKNOWN || !slices.Contains(levelFeatures[level], id) {
				t.Errorf("%s: %s requires %s, which the %v dispatch does not check",
					fn.file, fn.name, feature, level)
			}
		}
	}
}

var upperRegister = regexp.MustCompile(`\b[XY](1[6-9]|2\d|3[01])\b`)

// avx512fForms are the instructions that may name X16-X31 or Y16-Y31 under
// AVX-512 Foundation alone: they widen or split a ZMM, or move a scalar.
var avx512fForms = []string{"VCVTPS2PD", "VEXTRACTF64X4", "VEXTRACTI64X4", "VMOVD", "VMOVSS",
	"VMOVSD"}

// TestUpperRegisters checks that no generated function uses the upper
// sixteen vector registers below 512 bits outside AVX512F forms: VEX
// instructions cannot encode them, and the EVEX forms of 128- and 256-bit
// instructions need AVX512VL, which no level checks for. avo's allocator
// hands such registers out when a function needs many.
func TestUpperRegisters(t *testing.T) {
	for _, fn := range readAssembly(t) {
		for _, line := range fn.lines {
			fields := strings.Fields(line)
			if upperRegister.MatchString(line) && !slices.Contains(avx512fForms, fields[0]) {
				t.Errorf("%s: %s: %q uses an upper register below 512 bits", fn.file, fn.name,
					line)
			}
		}
	}
}
