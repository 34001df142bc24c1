package parallel

import (
	"sync/atomic"
	"testing"
)

// counter counts how often each part ran, and notes worker numbers out of
// range.
type counter struct {
	runs    []atomic.Int32
	workers int
	bad     atomic.Bool
}

func (c *counter) Run(worker, part int) {
	c.runs[part].Add(1)
	if worker < 0 || worker >= c.workers {
		c.bad.Store(true)
	}
}

func TestDoRunsEveryPartOnce(t *testing.T) {
	var g Group
	for _, workers := range []int{0, 1, 2, 3, 8, 100} {
		for _, parts := range []int{0, 1, 2, 5, 64, 1000} {
			c := &counter{runs: make([]atomic.Int32, parts), workers: Workers(workers, parts)}
			g.Do(c, parts, workers)
			for p := range c.runs {
				if n := c.runs[p].Load(); n != 1 {
					t.Fatalf("workers %d, parts %d: part %d ran %d times", workers, parts, p, n)
				}
			}
			if c.bad.Load() {
				t.Fatalf("workers %d, parts %d: a worker number out of range", workers, parts)
			}
		}
	}
}

func TestDoConcurrentGroups(t *testing.T) {
	done := make(chan bool)
	for range 4 {
		go func() {
			var g Group
			ok := true
			for range 200 {
				c := &counter{runs: make([]atomic.Int32, 17), workers: 3}
				g.Do(c, 17, 3)
				for p := range c.runs {
					ok = ok && c.runs[p].Load() == 1
				}
			}
			done <- ok
		}()
	}
	for range 4 {
		if !<-done {
			t.Fatal("a part did not run exactly once")
		}
	}
}

func TestDoAllocatesNothing(t *testing.T) {
	var g Group
	c := &counter{runs: make([]atomic.Int32, 64), workers: 2}
	g.Do(c, 64, 2)
	if allocs := testing.AllocsPerRun(100, func() { g.Do(c, 64, 2) }); allocs != 0 {
		t.Errorf("Do allocated %v times per call", allocs)
	}
}
