package command

import (
	"strings"
	"testing"

	"github.com/nflogcap/nflogcap/nflog"
)

// With -Z, a receive buffer that could grow past net.core.rmem_max only
// with CAP_NET_ADMIN is set to --rcvbuf-max at once, and the user is told;
// one that is fixed, or can grow without privileges, is left alone.
func TestRcvBufForUser(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		name             string
		buf, max, rmem   int
		wantBuf, wantMax int
		note             bool
	}{
		{"grows past rmem_max", 32 * mib, 64 * mib, 4 * mib, 64 * mib, 0, true},
		{"rmem_max unknown", 32 * mib, 64 * mib, 0, 64 * mib, 0, true},
		{"rmem_max high enough", 32 * mib, 64 * mib, 64 * mib, 32 * mib, 64 * mib, false},
		{"fixed", 32 * mib, 0, 4 * mib, 32 * mib, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := nflog.Config{RcvBuf: tc.buf, RcvBufMax: tc.max}
			note := rcvBufForUser(&l, "nobody", tc.rmem)
			if l.RcvBuf != tc.wantBuf || l.RcvBufMax != tc.wantMax {
				t.Errorf("rcvbuf %d, max %d; want %d, %d", l.RcvBuf, l.RcvBufMax, tc.wantBuf, tc.wantMax)
			}
			if (note != "") != tc.note {
				t.Errorf("note %q, want one: %v", note, tc.note)
			}
			if tc.note && !strings.HasPrefix(note, "-Z nobody: receive buffer set to 64 MiB (--rcvbuf-max) at once instead of growing from 32 MiB") {
				t.Errorf("note %q", note)
			}
		})
	}
}
