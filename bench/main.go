package bench

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tripletmine/triplet"
	"github.com/tripletmine/triplet/mining"
)

// Main is the command triplet-bench: it reads its flags from args, writes
// the markdown table to stdout and progress and usage to stderr.
func Main(args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("triplet-bench", flag.ContinueOnError)
	flags.SetOutput(stderr)
	sizes := flags.String("n", "256,1024,4096",
		fmt.Sprintf("comma-separated batch sizes, multiples of %d", ClassSize))
	strategies := flags.String("strategies", "batchall,batchhard,semihard",
		"comma-separated strategies")
	budget := flags.Duration("budget", 500*time.Millisecond,
		"time spent timing one implementation on one strategy and size")
	svg := flags.String("svg", "", "also draw time against n, log-log, into this `file`")
	flags.Usage = func() {
		fmt.Fprintf(stderr, "usage: triplet-bench [flags]\n\n"+
			"Times the triplet library at every instruction set level this machine offers\n"+
			"against a gonum version with the same semantics, and prints a markdown table.\n\n")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flags.Args())
	}

	opts := Options{Budget: *budget, Progress: stderr}
	if opts.Budget <= 0 {
		return errors.New("-budget must be positive")
	}
	for _, field := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n < 2*ClassSize || n%ClassSize != 0 {
			return fmt.Errorf("-n: %q is not a multiple of %d of at least %d", field,
				ClassSize, 2*ClassSize)
		}
		opts.Sizes = append(opts.Sizes, n)
	}
	for _, field := range strings.Split(*strategies, ",") {
		s, err := mining.ParseStrategy(strings.TrimSpace(field))
		if err != nil {
			return fmt.Errorf("-strategies: %w", err)
		}
		opts.Strategies = append(opts.Strategies, triplet.Strategy(s))
	}

	run := Context{Budget: opts.Budget, LoadBefore: LoadAverage()}
	rows, err := Report(opts)
	if err != nil {
		return err
	}
	run.LoadAfter = LoadAverage()
	if err := WriteTable(stdout, rows, run); err != nil {
		return err
	}
	if *svg != "" {
		if err := WritePlot(*svg, rows); err != nil {
			return fmt.Errorf("-svg: %w", err)
		}
	}
	return nil
}
