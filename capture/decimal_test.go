package capture

import (
	"strconv"
	"testing"
)

// Every number comes out as strconv writes it, whatever came before:
// counting up, carries into a new digit, repeats, jumps and wrapping.
func TestDecimalCounter(t *testing.T) {
	var c decimalCounter
	check := func(n uint32) {
		t.Helper()
		if got, want := string(c.format(n)), strconv.FormatUint(uint64(n), 10); got != want {
			t.Fatalf("format(%d) = %q, want %q", n, got, want)
		}
	}
	for n := uint32(0); n < 12345; n++ {
		check(n)
	}
	for _, n := range []uint32{12345, 12345, 7, 8, 99, 100, 101, 999999999, 1000000000, 1000000001,
		4294967294, 4294967295, 0, 1, 1999, 2000, 1999, 1000, 999, 5, 4294967295, 0} {
		check(n)
	}
}

// FuzzDecimalCounter: any sequence of numbers, each a step from the last.
func FuzzDecimalCounter(f *testing.F) {
	f.Add(uint32(0), []byte{1, 1, 1})
	f.Add(uint32(99), []byte{1, 0, 1})
	f.Add(uint32(4294967290), []byte{1, 1, 1, 1, 1, 1, 1, 1})
	f.Fuzz(func(t *testing.T, start uint32, steps []byte) {
		var c decimalCounter
		n := start
		for _, s := range steps {
			if got, want := string(c.format(n)), strconv.FormatUint(uint64(n), 10); got != want {
				t.Fatalf("format(%d) = %q, want %q", n, got, want)
			}
			n += uint32(s) // mostly 0 and 1 from the seeds, anything from the fuzzer
		}
	})
}
