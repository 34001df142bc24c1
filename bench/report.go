package bench

import (
	"cmp"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/cpuid/v2"

	"github.com/tripletmine/triplet"
	"github.com/tripletmine/triplet/asm"
)

// The fixed part of the workload: classes of ClassSize rows, Dim values
// per embedding, the Euclidean distance with margin Margin, and both the
// forward pass (loss) and the backward pass (dL/dE) in every call.
const (
	ClassSize = 4
	Dim       = 128
	Margin    = 0.2
)

// Options says what Report measures.
type Options struct {
	// Sizes are the batch sizes n, multiples of ClassSize with at least
	// two classes.
	Sizes []int

	Strategies []triplet.Strategy

	// Budget is about the time spent timing one implementation on one
	// strategy and size, after its warm-up call.
	Budget time.Duration

	// Progress, if not nil, receives a line per finished measurement.
	Progress io.Writer
}

// Row is one measurement: an implementation mining batches of N rows with
// a strategy.
type Row struct {
	// Implementation is "gonum" or "triplet"; Level is the library's
	// instruction set level, meaningless for gonum.
	Implementation string
	Level          asm.Level

	Strategy triplet.Strategy
	N        int

	// PerCall is the median time of one forward and backward call.
	PerCall time.Duration

	// Runs timed runs of Calls calls each made the median.
	Runs, Calls int

	// Allocs is the number of heap allocations per timed call.
	Allocs float64

	// OverBudget says that one call took so long that the measurement
	// could not fit its runs in the budget.
	OverBudget bool
}

// Name is how the table and the plot call the row's implementation.
func (r Row) Name() string {
	if r.Implementation == "gonum" {
		return "gonum"
	}
	return "triplet " + r.Level.String()
}

// GFLOPs returns the row's nominal throughput: 4·n²·d floating-point
// operations per call (2·n²·d for the distance matrix, as a matrix product
// E·Eᵀ counts them, and as many for the backward matrix product), divided
// by the time per call. Every implementation is credited with the same
// count, so ratios of GFLOP/s are ratios of speed.
func (r Row) GFLOPs() float64 {
	flops := 4 * float64(r.N) * float64(r.N) * Dim
	return flops / r.PerCall.Seconds() / 1e9
}

// Report measures, for each size and strategy, the gonum version and the
// library at every level asm.Levels lists, forcing each in turn with
// asm.SetLevel, on the same PK batch, and returns the rows in that order.
// It restores the library's level before it returns.
func Report(opts Options) ([]Row, error) {
	levels := asm.Levels()
	total := len(opts.Sizes) * len(opts.Strategies) * (1 + len(levels))
	started := time.Now()
	var rows []Row

	for _, n := range opts.Sizes {
		rng := rand.New(rand.NewPCG(1, uint64(n)))
		embeddings, labels := PKBatch(rng, n/ClassSize, ClassSize, Dim)
		grad := make([]float32, len(embeddings))

		for _, s := range opts.Strategies {
			gonum := &GonumMiner{Strategy: s, Margin: Margin}
			row, err := measureRow(Row{Implementation: "gonum", Strategy: s, N: n},
				opts.Budget, func() error {
					_, err := gonum.Mine(embeddings, Dim, labels, grad)
					return err
				})
			if err != nil {
				return nil, err
			}
			rows = append(rows, row)
			progress(opts.Progress, len(rows), total, row, started)

			for _, level := range levels {
				row, err := measureLibrary(Row{Implementation: "triplet", Level: level,
					Strategy: s, N: n}, opts.Budget, embeddings, labels, grad)
				if err != nil {
					return nil, err
				}
				rows = append(rows, row)
				progress(opts.Progress, len(rows), total, row, started)
			}
		}
	}
	return rows, nil
}

// measureLibrary measures a triplet.Miner at the row's level.
func measureLibrary(row Row, budget time.Duration, embeddings []float32, labels []int32,
	grad []float32) (Row, error) {

	restore, err := asm.SetLevel(row.Level)
	if err != nil {
		return row, err
	}
	defer restore()

	m, err := triplet.NewMiner(triplet.Config{Strategy: row.Strategy, Metric: triplet.Euclidean,
		Margin: Margin})
	if err != nil {
		return row, err
	}
	return measureRow(row, budget, func() error {
		_, err := m.Mine(embeddings, Dim, labels, grad)
		return err
	})
}

// measureRow fills in the row's timing from measure.
func measureRow(row Row, budget time.Duration, call func() error) (Row, error) {
	t, err := measure(call, budget)
	if err != nil {
		return row, fmt.Errorf("%s %v n=%d: %w", row.Name(), row.Strategy, row.N, err)
	}
	row.PerCall, row.Runs, row.Calls = t.perCall, t.runs, t.calls
	row.Allocs, row.OverBudget = t.allocs, t.overBudget
	return row, nil
}

// progress writes one line about a finished measurement.
func progress(w io.Writer, done, total int, row Row, started time.Time) {
	if w == nil {
		return
	}
	width := len(fmt.Sprint(total))
	fmt.Fprintf(w, "[%*d/%d] %-15s %-9v n=%-5d %9s per call (%d×%d), elapsed %v\n",
		width, done, total, row.Name(), row.Strategy, row.N, formatDuration(row.PerCall),
		row.Runs, row.Calls, time.Since(started).Round(time.Second))
}

// Context is what the table's header says about the run besides the
// machine: the budget, and the system's load average before and after the
// measurements ("" when unknown).
type Context struct {
	Budget                time.Duration
	LoadBefore, LoadAfter string
}

// LoadAverage returns the system's load averages over 1, 5 and 15 minutes
// as /proc/loadavg gives them, or "" where there is no such file.
func LoadAverage() string {
	text, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	fields := strings.Fields(string(text))
	if len(fields) < 3 {
		return ""
	}
	return strings.Join(fields[:3], " ")
}

// busy reports whether the 1-minute figure of a LoadAverage exceeds 1:
// more than one core's worth of work was running or waiting.
func busy(load string) bool {
	fields := strings.Fields(load)
	if len(fields) == 0 {
		return false
	}
	minute, err := strconv.ParseFloat(fields[0], 64)
	return err == nil && minute > 1
}

// WriteTable writes the rows as a markdown table, grouped by strategy and
// size, after a header that names the machine, the level the library uses
// by default, the workload and how the columns are computed.
func WriteTable(w io.Writer, rows []Row, run Context) error {
	var b strings.Builder
	fmt.Fprintf(&b, "CPU: %s (family %d, model %d), %d logical cores, GOMAXPROCS %d, %s/%s, "+
		"%s\n\n", cpuid.CPU.BrandName, cpuid.CPU.Family, cpuid.CPU.Model, runtime.NumCPU(),
		runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version())
	levelNames := make([]string, 0, 3)
	for _, l := range asm.Levels() {
		levelNames = append(levelNames, l.String())
	}
	fmt.Fprintf(&b, "Library levels here: %s; in use by default: %s", strings.Join(levelNames,
		", "), asm.Best())
	if limit := os.Getenv("TRIPLET_ISA"); limit != "" {
		fmt.Fprintf(&b, " (capped by TRIPLET_ISA=%s)", limit)
	}
	fmt.Fprintf(&b, ".\n\n")
	fmt.Fprintf(&b, "Workload: PK batches of n rows, %d per class, d=%d, Euclidean distance, "+
		"margin %g;\neach call is the forward pass (loss) and the backward pass (dL/dE).\n\n",
		ClassSize, Dim, Margin)
	fmt.Fprintf(&b, "Time per call: median over the runs of each run's mean; a warm-up call "+
		"is not counted;\nabout %v per measurement; runs = runs×calls per run.\n", run.Budget)
	if run.LoadBefore != "" && run.LoadAfter != "" {
		fmt.Fprintf(&b, "Load average (1, 5, 15 min): %s before, %s after; the run adds up "+
			"to %d.\n", run.LoadBefore, run.LoadAfter, runtime.GOMAXPROCS(0))
		if busy(run.LoadBefore) {
			fmt.Fprintf(&b, "Other work kept more than a core busy before the start: these "+
				"timings are noisy.\n")
		}
	}
	fmt.Fprintf(&b, "GFLOP/s: nominal 4·n²·d per call, 2·n²·d for the distance matrix "+
		"plus 2·n²·d for the\nbackward matrix product, credited to every implementation "+
		"whatever it executes.\n")
	fmt.Fprintf(&b, "Speed-ups: the gonum version's and the library's generic level's time "+
		"per call\ndivided by this row's, same strategy and n.\n")
	fmt.Fprintf(&b, "Allocations: heap allocations (runtime.MemStats.Mallocs) per timed "+
		"call.\n\n")

	fmt.Fprintf(&b, "| implementation | strategy | n | time/call | GFLOP/s | vs gonum | "+
		"vs generic | allocs/call | runs |\n")
	fmt.Fprintf(&b, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	over := false
	for _, r := range byStrategyAndSize(rows) {
		name := r.Name()
		if r.Implementation == "triplet" && r.Level == asm.Best() {
			name += " (default)"
		}
		runs := fmt.Sprintf("%d×%d", r.Runs, r.Calls)
		if r.OverBudget {
			runs += " †"
			over = true
		}
		fmt.Fprintf(&b, "| %s | %v | %d | %s | %.1f | %s | %s | %s | %s |\n", name,
			r.Strategy, r.N, formatDuration(r.PerCall), r.GFLOPs(),
			speedUp(rows, r, isGonum), speedUp(rows, r, isGeneric), formatAllocs(r.Allocs),
			runs)
	}
	if over {
		fmt.Fprintf(&b, "\n† a call took more than a third of the budget: the median is of %d "+
			"single calls,\nand the measurement took longer than its budget.\n", minRuns)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// byStrategyAndSize returns the rows sorted by strategy, then size, each
// group in the order it was measured.
func byStrategyAndSize(rows []Row) []Row {
	sorted := slices.Clone(rows)
	slices.SortStableFunc(sorted, func(a, b Row) int {
		if a.Strategy != b.Strategy {
			return cmp.Compare(a.Strategy, b.Strategy)
		}
		return cmp.Compare(a.N, b.N)
	})
	return sorted
}

func isGonum(r Row) bool { return r.Implementation == "gonum" }

func isGeneric(r Row) bool { return r.Implementation == "triplet" && r.Level == asm.Generic }

// speedUp returns the time per call of the row that base picks among those
// with r's strategy and size, divided by r's, or "-" without such a row.
func speedUp(rows []Row, r Row, base func(Row) bool) string {
	for _, other := range rows {
		if base(other) && other.Strategy == r.Strategy && other.N == r.N {
			return fmt.Sprintf("%.1fx", other.PerCall.Seconds()/r.PerCall.Seconds())
		}
	}
	return "-"
}

// formatDuration writes d in s, ms or µs, whichever keeps the number
// between 1 and 1000, with about three significant digits.
func formatDuration(d time.Duration) string {
	value, unit := d.Seconds(), "s"
	switch {
	case value < 1e-3:
		value, unit = value*1e6, "µs"
	case value < 1:
		value, unit = value*1e3, "ms"
	}
	switch {
	case value >= 100:
		return fmt.Sprintf("%.0f %s", value, unit)
	case value >= 10:
		return fmt.Sprintf("%.1f %s", value, unit)
	}
	return fmt.Sprintf("%.2f %s", value, unit)
}

// formatAllocs writes whole numbers as such, numbers below 1 with two
// significant digits, so that a rare allocation does not read as none, and
// others with one decimal.
func formatAllocs(a float64) string {
	switch {
	case a == float64(int64(a)):
		return fmt.Sprintf("%d", int64(a))
	case a < 1:
		return fmt.Sprintf("%.2g", a)
	}
	return fmt.Sprintf("%.1f", a)
}
