package bench_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tripletmine/triplet/asm"
	"github.com/tripletmine/triplet/bench"
)

// TestCommand runs the command end to end on tiny batches with a tiny
// budget, and checks that the table has a row for every implementation,
// level, strategy and size, that progress went to stderr and that the plot
// was written.
func TestCommand(t *testing.T) {
	svg := filepath.Join(t.TempDir(), "times.svg")
	var table, progress bytes.Buffer
	args := []string{"-n", "8,16", "-budget", "2ms", "-svg", svg}
	if err := bench.Main(args, &table, &progress); err != nil {
		t.Fatal(err)
	}
	t.Logf("levels %v\n%s", asm.Levels(), table.String())

	names := []string{"gonum"}
	for _, level := range asm.Levels() {
		names = append(names, "triplet "+level.String())
	}
	var rows int
	for _, name := range names {
		for _, strategy := range []string{"batchall", "batchhard", "semihard"} {
			for _, n := range []string{"8", "16"} {
				prefix := "| " + name
				if name == "triplet "+asm.Best().String() {
					prefix += " (default)"
				}
				prefix += " | " + strategy + " | " + n + " | "
				if !strings.Contains(table.String(), "\n"+prefix) {
					t.Errorf("no row starts with %q", prefix)
				}
				rows++
			}
		}
	}
	if lines := strings.Count(progress.String(), "\n"); lines != rows {
		t.Errorf("%d progress lines for %d measurements", lines, rows)
	}
	for _, want := range []string{"CPU: ", "in use by default: " + asm.Best().String(),
		"GFLOP/s: nominal 4·n²·d"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("the header does not say %q", want)
		}
	}

	plot, err := os.ReadFile(svg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(plot, []byte("<svg")) {
		t.Errorf("%s is not an SVG image", svg)
	}
}

func TestCommandRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-n", "6"}, {"-n", "4"}, {"-n", "256,x"}, {"-strategies", "hardest"},
		{"-budget", "0s"}, {"extra"}, {"-bogus"},
	} {
		var table, stderr bytes.Buffer
		err := bench.Main(args, &table, &stderr)
		if err == nil {
			t.Errorf("%q: no error", args)
			continue
		}
		t.Logf("%q: %v", args, err)
		if table.Len() > 0 {
			t.Errorf("%q: wrote a table", args)
		}
	}

	var table, stderr bytes.Buffer
	if err := bench.Main([]string{"-h"}, &table, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: error %v, want flag.ErrHelp", err)
	}
	if !strings.Contains(stderr.String(), "-budget") {
		t.Errorf("-h does not list the flags:\n%s", stderr.String())
	}
}
