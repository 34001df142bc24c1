// Package parallel splits work into parts and runs them on a pool of
// goroutines that lives as long as the process, so that a call in steady
// state starts no goroutine and allocates nothing.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Job is work split into parts that may run in any order, at the same
// time, on any goroutine. Run is told which of the call's goroutines runs
// it, a number below Workers, so that it can use scratch space of that
// worker's own. Run must not panic.
type Job interface {
	Run(worker, part int)
}

// Group runs one Job at a time. Its zero value is ready; keep it (inside a
// longer-lived value) to reuse, since a Group in use must not move.
type Group struct {
	job    Job
	parts  int64
	next   atomic.Int64
	worker atomic.Int32
	done   sync.WaitGroup
}

// Workers returns the number of goroutines that Do uses for workers (0
// means GOMAXPROCS) and parts.
func Workers(workers, parts int) int {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	return max(1, min(workers, parts))
}

// Do calls job.Run(p) for every p in [0, parts) and returns when all have
// returned. Up to Workers(workers, parts) goroutines share the parts, the
// caller's among them; each takes the next part not yet taken.
func (g *Group) Do(job Job, parts, workers int) {
	n := Workers(workers, parts)
	if n == 1 {
		for p := range parts {
			job.Run(0, p)
		}
		return
	}

	g.job, g.parts = job, int64(parts)
	g.next.Store(0)
	g.worker.Store(0)
	g.done.Add(n - 1)
	for range n - 1 {
		hand(g)
	}
	g.work()
	g.done.Wait()
	g.job = nil
}

// work takes a worker number and runs parts of the group's job until none
// is left.
func (g *Group) work() {
	worker := int(g.worker.Add(1) - 1)
	for {
		p := g.next.Add(1) - 1
		if p >= g.parts {
			return
		}
		g.job.Run(worker, int(p))
	}
}

// The pool: idle helpers wait on groups; a group is handed to an idle
// helper, or to a new one while the pool is below its limit.
var (
	groups  = make(chan *Group)
	helpers atomic.Int32
)

// poolLimit bounds the number of helper goroutines.
func poolLimit() int32 { return int32(4 * runtime.GOMAXPROCS(0)) }

func hand(g *Group) {
	select {
	case groups <- g:
		return
	default:
	}
	if helpers.Add(1) <= poolLimit() {
		go helper(g)
		return
	}
	helpers.Add(-1)
	groups <- g
}

// helper works on the group it was started for, then on every group
// handed to it.
func helper(g *Group) {
	for {
		g.work()
		g.done.Done()
		g = <-groups
	}
}
