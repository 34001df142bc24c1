// Package masks holds what several kernel generators share: the table of
// lane masks that tails of rows load their masks from.
package masks

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
)

// Lanes declares, in the file being generated, 16 words of all ones
// followed by 16 zero words, and returns its address: a 16-word (or 8-word)
// load that starts rest words before the zeros, at Offset(64 - 4·rest), has
// its low rest lanes set.
func Lanes() Mem {
	table := GLOBL("laneMasks", RODATA|NOPTR)
	for i := range 32 {
		word := U32(0)
		if i < 16 {
			word = U32(0xffffffff)
		}
		DATA(4*i, word)
	}
	return table
}
