package e2e_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// After binding, one line per group says what nflogcap listens on: copy
// mode, snaplen, batch settings, receive buffer. Two groups capture into one
// file, each prefix of each group an interface of its own. A group that
// cannot be bound gets no such line.
func TestCLIListeningLineTwoGroups(t *testing.T) {
	ns := liveNS(t, "tshark", "capinfos")
	dir := t.TempDir()
	file := filepath.Join(dir, "two.pcapng")
	p := liveStart(t, nil, nil, "-g", "5000", "-g", "5001", "--netns", ns.Name, "-w", file,
		"-s", "1500", "--qthresh", "32", "--batch-timeout", "20ms")
	p.waitListening(t, 2)
	lineRE := func(group string) *regexp.Regexp {
		return regexp.MustCompile(`(?m)^listening on nflog group ` + group + ` in namespace ` + regexp.QuoteMeta(ns.Name) +
			`, copy packet, snaplen 1500, batch 32 packets / 20ms, .*receive buffer 32 MiB \(grows to 64 MiB\)`)
	}
	checkLines := func(when string) {
		t.Helper()
		stderr := p.stderr.String()
		for _, g := range []string{"5000", "5001"} {
			if n := len(lineRE(g).FindAllString(stderr, -1)); n != 1 {
				t.Errorf("%s: %d listening lines for group %s, want 1 with copy mode, snaplen, batch and receive buffer:\n%s", when, n, g, stderr)
			}
		}
		if n := strings.Count(stderr, "listening on"); n != 2 {
			t.Errorf("%s: %d listening lines, want 2:\n%s", when, n, stderr)
		}
	}
	checkLines("after start")

	// The same group again fails to bind: one line naming the problem, and
	// no listening line.
	other := filepath.Join(dir, "other.pcapng")
	code, _, stderr := liveRun(t, nil, "-g", "5001", "--netns", ns.Name, "-w", other)
	if code != 1 || strings.Contains(stderr, "listening on") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 ||
		!strings.Contains(stderr, "5001") || !strings.Contains(stderr, "already bound") {
		t.Errorf("second capture of group 5001: exit %d, stderr:\n%s\nwant exit 1 and one line saying the group is already bound, no listening line", code, stderr)
	}
	if _, err := os.Stat(other); err == nil {
		t.Errorf("the failed capture created %s", other)
	}

	s4 := newUDPSender(t, ns, "udp4")
	s4.send(t, "127.0.0.1:7001", 0, 2, 60) // 5000 web-in
	s4.send(t, "127.0.0.1:7002", 2, 2, 60) // 5000 dns-out
	s4.send(t, "127.0.0.1:7011", 4, 3, 60) // 5001 x
	s4.send(t, "127.0.0.1:7012", 7, 1, 60) // 5001 y
	time.Sleep(300 * time.Millisecond)
	liveStop(t, p, syscall.SIGINT)
	checkLines("after exit")
	liveStatsLines(t, p.stderr.String(), 8)
	cliCheckFile(t, file, map[string]int{
		"nflog:5000:web-in": 2, "nflog:5000:dns-out": 2,
		"nflog:5001:x": 3, "nflog:5001:y": 1,
	})
}
