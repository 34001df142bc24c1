package asm

import (
	"fmt"
	"os"
	"sync/atomic"
)

// Level is an instruction set level that the kernels can run at.
type Level int32

// The levels, lowest first. A higher level may run every lower one.
const (
	Generic Level = iota // plain Go, on every architecture
	AVX2                 // AVX2 and FMA3 (x86-64-v3)
	AVX512               // AVX-512 Foundation on top of AVX2
)

// String returns the level's name as TRIPLET_ISA spells it.
func (l Level) String() string {
	switch l {
	case Generic:
		return "generic"
	case AVX2:
		return "avx2"
	case AVX512:
		return "avx512"
	}
	return fmt.Sprintf("Level(%d)", int32(l))
}

// ParseLevel reads a level name as TRIPLET_ISA spells it.
func ParseLevel(name string) (Level, error) {
	for l := Generic; l <= AVX512; l++ {
		if l.String() == name {
			return l, nil
		}
	}
	return Generic, fmt.Errorf("asm: unknown level %q (want generic, avx2 or avx512)", name)
}

// best is the highest level this build and machine run, capped by
// TRIPLET_ISA; current is the level the kernels use now.
var (
	best    = capLevel(hardwareLevel(), os.Getenv("TRIPLET_ISA"))
	current atomic.Int32
)

func init() { current.Store(int32(best)) }

// capLevel lowers the hardware level to the one named by limit, the value
// of TRIPLET_ISA. An empty limit leaves it alone; a name that is not a level
// lowers it to Generic, since the safe reading of a mistyped limit is the lowest.
func capLevel(hw Level, limit string) Level {
	if limit == "" {
		return hw
	}
	l, err := ParseLevel(limit)
	if err != nil {
		return Generic
	}
	return min(hw, l)
}

// Best returns the highest level that this build, this CPU and
// TRIPLET_ISA allow. The kernels use it unless SetLevel says otherwise.
func Best() Level { return best }

// Current returns the level the kernels run at now.
func Current() Level { return Level(current.Load()) }

// Levels returns every level up to Best, lowest first.
func Levels() []Level {
	ls := make([]Level, 0, best+1)
	for l := Generic; l <= best; l++ {
		ls = append(ls, l)
	}
	return ls
}

// SetLevel makes the kernels run at level l until the returned function
// restores the previous level. It fails for a level above Best. It is meant
// for tests and benchmarks that compare levels: it changes the level for
// the whole process, so calls running at the same time may use either.
func SetLevel(l Level) (restore func(), err error) {
	if l < Generic || l > best {
		return nil, fmt.Errorf("asm: level %v is not available here (best is %v)", l, best)
	}
	prev := current.Swap(int32(l))
	return func() { current.Store(prev) }, nil
}
