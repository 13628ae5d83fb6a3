package units

import (
	"math"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"1048576", 1048576},
		{"1B", 1},
		{"1kB", 1000},
		{"1KB", 1000},
		{"1k", 1000},
		{"1K", 1000},
		{"100MB", 100_000_000},
		{"100mb", 100_000_000},
		{"2M", 2_000_000},
		{"3GB", 3_000_000_000},
		{"3g", 3_000_000_000},
		{"1TB", 1_000_000_000_000},
		{"1T", 1_000_000_000_000},
		{"1KiB", 1024},
		{"1kib", 1024},
		{"1Ki", 1024},
		{"32MiB", 32 << 20},
		{"32Mi", 32 << 20},
		{"1GiB", 1 << 30},
		{"1Gi", 1 << 30},
		{"2TiB", 2 << 40},
		{"2Ti", 2 << 40},
		{"1.5MB", 1_500_000},
		{"1.1MB", 1_100_000},
		{".5KiB", 512},
		{"1.KiB", 1024},
		{"64 KiB", 64 << 10},
		{" 7 ", 7},
		{"9223372036854775807", math.MaxInt64},
		{"1.25GiB", 1342177280},
		{"9000000TB", 9_000_000_000_000_000_000},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, nil", tt.in, got, err, tt.want)
		}
	}
}

func TestParseSizeErrors(t *testing.T) {
	tests := []struct {
		in, wantMsg string
	}{
		{"", `invalid size "": want a number with an optional unit (kB, MB, GB, TB, KiB, MiB, GiB, TiB)`},
		{"12XB", `invalid size "12XB": want a number with an optional unit (kB, MB, GB, TB, KiB, MiB, GiB, TiB)`},
		{"MB", `invalid size "MB": want a number`},
		{".", `invalid size ".": want a number`},
		{"1.2.3", `invalid size "1.2.3": want a number`},
		{"-5MB", `invalid size "-5MB": negative`},
		{"-1", `invalid size "-1": negative`},
		{"1e6", `invalid size "1e6": want a number`},
		{"0x10", `invalid size "0x10": want a number`},
		{"1 M B", `invalid size "1 M B": want a number`},
		{"1.5B", `invalid size "1.5B": not a whole number of bytes`},
		{"0.0001kB", `invalid size "0.0001kB": not a whole number of bytes`},
		{"9223372036854775808", `invalid size "9223372036854775808": larger than 9223372036854775807 bytes`},
		{"9300000TB", `invalid size "9300000TB": larger than`},
		{"8388608TiB", `invalid size "8388608TiB": larger than`},
		{"8388608.5TiB", `invalid size "8388608.5TiB": larger than`},
		{"99999999999999999999999", `larger than`},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if err == nil {
			t.Errorf("ParseSize(%q) = %d, nil; want error containing %q", tt.in, got, tt.wantMsg)
			continue
		}
		if !strings.Contains(err.Error(), tt.wantMsg) || strings.Contains(err.Error(), "\n") {
			t.Errorf("ParseSize(%q) error = %q; want one line containing %q", tt.in, err, tt.wantMsg)
		}
	}
}

func TestFormatSize(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0 B"},
		{512, "512 B"},
		{1023, "1023 B"},
		{1024, "1 KiB"},
		{1536, "1.5 KiB"},
		{32 << 20, "32 MiB"},
		{100_000_000, "95.4 MiB"},
		{3 << 30, "3 GiB"},
		{1 << 40, "1 TiB"},
		{-4096, "-4 KiB"},
		{math.MaxInt64, "8.0 EiB"},
		{math.MinInt64, "-8 EiB"},
	}
	for _, tt := range tests {
		if got := FormatSize(tt.in); got != tt.want {
			t.Errorf("FormatSize(%d) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

// TestRoundTrip checks that what FormatSize prints for exact sizes parses back.
func TestRoundTrip(t *testing.T) {
	for _, n := range []int64{0, 1, 1000, 1024, 4 << 20, 5 << 30, 7 << 40} {
		s := strings.ReplaceAll(FormatSize(n), " ", "")
		got, err := ParseSize(s)
		if err != nil || got != n {
			t.Errorf("ParseSize(FormatSize(%d) = %q) = %d, %v", n, s, got, err)
		}
	}
}
