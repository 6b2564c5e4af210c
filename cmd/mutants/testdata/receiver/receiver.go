// Package receiver is a stand-in for the reference receiver: one of each
// kind of mutant the report must classify.
package receiver

// rules holds planted state-machine faults, as the receiver's does.
type rules struct {
	lastWriteWins bool
}

// Receiver holds planted faults, as the reference receiver does.
type Receiver struct {
	faults map[string]bool
	rules  rules
}

func (r *Receiver) handle(n int, id string) int {
	if n > 10 {
		return n - 1
	}
	if r.faults["x"] && id != "" {
		return 0
	}
	if !r.faults["y"] || n == 3 {
		return 1
	}
	if r.rules.lastWriteWins && n < 2 {
		return 2
	}
	if n == 4 && r.faults["z"] {
		return 3
	}
	if r.faults["a"] || r.faults["b"] && n > 0 {
		return 5
	}
	switch {
	case n >= 5:
		return 4
	}
	return n + 1
}
