package capture

import (
	"strings"
	"testing"
)

// The exit statistics say what a write error cut from a file, and whether
// all of it was counted.
func TestStatsWriteTo(t *testing.T) {
	for _, tc := range []struct {
		st   Stats
		want []string
		not  string
	}{
		{Stats{Captured: 10, Lost: 2, Overruns: 1, RcvBuf: 32 << 20},
			[]string{"10 packets captured\n", "2 packets lost\n", "1 ENOBUFS events\n", "receive buffer 32 MiB\n"}, "cut"},
		{Stats{Captured: 10, CutBytes: 3 << 20, CutPackets: 4},
			[]string{"4 of them (3 MiB) cut from the end of a file by a write error: in no file\n"}, "at least"},
		{Stats{Captured: 10, CutBytes: 1 << 20, CutPackets: 4, CutUnknown: true},
			[]string{"at least 4 of them (1 MiB) cut"}, "\n0 packets lost (and"},
		{Stats{Captured: 10, Unwritten: 3},
			[]string{"3 packets received but not written: the write error ended the capture\n"}, "cut"},
		{Stats{Captured: 10, LossPending: true},
			[]string{"0 packets lost (and an unknown number after the last packet received"}, "cut"},
	} {
		var b strings.Builder
		if _, err := tc.st.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%+v printed\n%s\nwant %q", tc.st, b.String(), w)
			}
		}
		if strings.Contains(b.String(), tc.not) {
			t.Errorf("%+v printed\n%s\nwith %q", tc.st, b.String(), tc.not)
		}
	}
}
