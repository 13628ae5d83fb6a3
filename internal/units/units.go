// Package units parses and prints byte sizes as users type them on the command
// line ("100MB", "1.5GiB", "4096").
//
// Decimal units (kB, MB, GB, TB) are powers of 1000 and binary units (KiB, MiB,
// GiB, TiB) powers of 1024, as in IEC 80000-13. Unit letters are matched without
// regard to case, so "mb", "MB" and "M" all mean 10^6 bytes; a trailing "B" is
// optional.
package units

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// allowed is what error messages tell the user to type.
const allowed = "want a number with an optional unit (kB, MB, GB, TB, KiB, MiB, GiB, TiB)"

// multiplier returns the number of bytes in unit, which is lower case and has
// no trailing "b" removed yet.
func multiplier(unit string) (int64, bool) {
	switch unit {
	case "", "b":
		return 1, true
	case "k", "kb":
		return 1e3, true
	case "m", "mb":
		return 1e6, true
	case "g", "gb":
		return 1e9, true
	case "t", "tb":
		return 1e12, true
	case "ki", "kib":
		return 1 << 10, true
	case "mi", "mib":
		return 1 << 20, true
	case "gi", "gib":
		return 1 << 30, true
	case "ti", "tib":
		return 1 << 40, true
	}
	return 0, false
}

// ParseSize returns the number of bytes s denotes: plain digits ("1048576") or
// a decimal number with a unit ("1.5MB", "64 KiB"). It rejects empty input,
// negative numbers, unknown units, fractions of a byte and sizes that do not
// fit in an int64, with a one-line error that quotes s.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	end := 0
	for end < len(t) && (t[end] >= '0' && t[end] <= '9' || t[end] == '.') {
		end++
	}
	num, unit := t[:end], strings.ToLower(strings.TrimSpace(t[end:]))
	if strings.HasPrefix(t, "-") {
		return 0, fmt.Errorf("invalid size %q: negative", s)
	}
	if !validNumber(num) {
		return 0, fmt.Errorf("invalid size %q: %s", s, allowed)
	}
	mult, ok := multiplier(unit)
	if !ok {
		return 0, fmt.Errorf("invalid size %q: %s", s, allowed)
	}
	if !strings.Contains(num, ".") {
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || n > math.MaxInt64/mult {
			return 0, fmt.Errorf("invalid size %q: larger than %d bytes", s, int64(math.MaxInt64))
		}
		return n * mult, nil
	}
	// Decimals are computed exactly so that "1.1MB" is 1100000, not 1099999.
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return 0, fmt.Errorf("invalid size %q: %s", s, allowed)
	}
	r.Mul(r, new(big.Rat).SetInt64(mult))
	if !r.IsInt() {
		return 0, fmt.Errorf("invalid size %q: not a whole number of bytes", s)
	}
	if !r.Num().IsInt64() {
		return 0, fmt.Errorf("invalid size %q: larger than %d bytes", s, int64(math.MaxInt64))
	}
	return r.Num().Int64(), nil
}

// validNumber reports whether num is digits with at most one decimal point and
// at least one digit on some side of it.
func validNumber(num string) bool {
	digits, dots := 0, 0
	for i := 0; i < len(num); i++ {
		if num[i] == '.' {
			dots++
		} else {
			digits++
		}
	}
	return digits > 0 && dots <= 1
}

// binaryUnits are the units FormatSize uses, largest first.
var binaryUnits = [...]struct {
	name string
	size uint64
}{
	{"EiB", 1 << 60}, {"PiB", 1 << 50}, {"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
}

// FormatSize prints n for people: in the largest binary unit it reaches, as a
// whole number when exact ("32 MiB") and with one decimal otherwise ("1.5 GiB"),
// or in bytes below 1 KiB ("512 B").
func FormatSize(n int64) string {
	sign := ""
	u := uint64(n)
	if n < 0 {
		sign, u = "-", uint64(-(n+1))+1 // no overflow for math.MinInt64
	}
	for _, b := range binaryUnits {
		if u < b.size {
			continue
		}
		if u%b.size == 0 {
			return sign + strconv.FormatUint(u/b.size, 10) + " " + b.name
		}
		return sign + strconv.FormatFloat(float64(u)/float64(b.size), 'f', 1, 64) + " " + b.name
	}
	return sign + strconv.FormatUint(u, 10) + " B"
}
