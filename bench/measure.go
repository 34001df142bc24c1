package bench

import (
	"runtime"
	"slices"
	"time"
)

// The shape of a measurement: it aims at targetRuns timed runs of equal
// numbers of calls, and makes minRuns when a call is too slow for more;
// both are odd, so the median is one of the runs.
const (
	targetRuns = 5
	minRuns    = 3
)

// timing is the outcome of one measurement.
type timing struct {
	perCall     time.Duration // the median over the runs of a run's time per call
	runs, calls int           // timed runs, and calls in each
	allocs      float64       // heap allocations per timed call
	overBudget  bool          // a call took so long that minRuns runs exceeded the budget
}

// measure times call, which mines one batch, within about budget. A first
// call warms the caches and the callee's scratch space and is not counted;
// unless it took more than budget/minRuns, doubling numbers of calls then
// estimate the time per call. The timed runs share the budget, each of as
// many calls as fit; a call slower than budget/minRuns still gets minRuns
// runs of one call.
func measure(call func() error, budget time.Duration) (timing, error) {
	start := time.Now()
	if err := call(); err != nil {
		return timing{}, err
	}
	estimate := time.Since(start)

	for calls := 1; estimate*minRuns <= budget; calls *= 2 {
		start := time.Now()
		for range calls {
			if err := call(); err != nil {
				return timing{}, err
			}
		}
		if elapsed := time.Since(start); elapsed >= budget/20 {
			estimate = max(elapsed/time.Duration(calls), 1)
			break
		}
	}

	t := timing{runs: targetRuns, calls: int(budget / (targetRuns * estimate))}
	if t.calls < 1 {
		t.calls = 1
		if estimate*targetRuns > budget {
			t.runs = minRuns
		}
		t.overBudget = time.Duration(t.runs)*estimate > budget
	}

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	perCall := make([]time.Duration, t.runs)
	for run := range perCall {
		start := time.Now()
		for range t.calls {
			if err := call(); err != nil {
				return timing{}, err
			}
		}
		perCall[run] = time.Since(start) / time.Duration(t.calls)
	}
	runtime.ReadMemStats(&after)

	slices.Sort(perCall)
	t.perCall = perCall[len(perCall)/2]
	t.allocs = float64(after.Mallocs-before.Mallocs) / float64(t.runs*t.calls)
	return t, nil
}
