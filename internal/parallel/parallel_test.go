package parallel

import (
	"sync/atomic"
	"testing"
)

// counter counts how often each part ran.
type counter struct{ runs []atomic.Int32 }

func (c *counter) Run(part int) { c.runs[part].Add(1) }

func TestDoRunsEveryPartOnce(t *testing.T) {
	var g Group
	for _, workers := range []int{0, 1, 2, 3, 8, 100} {
		for _, parts := range []int{0, 1, 2, 5, 64, 1000} {
			c := &counter{runs: make([]atomic.Int32, parts)}
			g.Do(c, parts, workers)
			for p := range c.runs {
				if n := c.runs[p].Load(); n != 1 {
					t.Fatalf("workers %d, parts %d: part %d ran %d times", workers, parts, p, n)
				}
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
				c := &counter{runs: make([]atomic.Int32, 17)}
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
	c := &counter{runs: make([]atomic.Int32, 64)}
	g.Do(c, 64, 2)
	if allocs := testing.AllocsPerRun(100, func() { g.Do(c, 64, 2) }); allocs != 0 {
		t.Errorf("Do allocated %v times per call", allocs)
	}
}
