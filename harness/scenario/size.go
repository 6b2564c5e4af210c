package scenario

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Size units of body.size.
var sizeUnits = []struct {
	suffix string
	bytes  int64
}{
	// KiB and MiB before B, which they end with.
	{"KiB", 1 << 10},
	{"MiB", 1 << 20},
	{"B", 1},
}

// ParseSize parses a body size as scenarios write it: a whole number and a
// unit, B, KiB or MiB, e.g. "512B", "100KiB", "5MiB". It returns the size in
// bytes.
func ParseSize(s string) (int64, error) {
	for _, u := range sizeUnits {
		digits, ok := strings.CutSuffix(s, u.suffix)
		if !ok {
			continue
		}
		if digits == "" || strings.TrimLeft(digits, "0123456789") != "" {
			break
		}
		n, err := strconv.ParseInt(digits, 10, 64)
		if err != nil || n > math.MaxInt64/u.bytes {
			return 0, fmt.Errorf("size %q is too large", s)
		}
		return n * u.bytes, nil
	}
	return 0, fmt.Errorf("size %q: want a whole number and a unit, B, KiB or MiB, e.g. 5MiB", s)
}
