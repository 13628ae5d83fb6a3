package e2e_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cliStatsBlock is the statistics nflogcap prints, as one block of lines.
func cliStatsBlock(captured int) string {
	return strings.Join([]string{
		strconv.Itoa(captured) + " packets captured",
		"0 packets lost",
		"0 ENOBUFS events",
		"receive buffer 32 MiB",
	}, "\n") + "\n"
}

// cliSendWebDNS sends web datagrams to 7001 (input, "web-in") and dns
// datagrams to 7002 (output, "dns-out"), numbered from first.
func cliSendWebDNS(t *testing.T, s *udpSender, first, web, dns int) {
	t.Helper()
	s.send(t, "127.0.0.1:7001", first, web, 80)
	s.send(t, "127.0.0.1:7002", first+web, dns, 80)
}

// cliCheckFile checks a finished capture file: tshark reads want packets per
// interface, and capinfos shows one statistics block per interface.
func cliCheckFile(t *testing.T, file string, want map[string]int) {
	t.Helper()
	got := map[string]int{}
	for _, name := range liveTsharkIfaces(t, file) {
		got[name]++
	}
	for iface, n := range want {
		if got[iface] != n {
			t.Errorf("%s: %d packets on %s, want %d (all: %v)", filepath.Base(file), got[iface], iface, n, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: interfaces %v, want %v", filepath.Base(file), got, want)
	}
	info := capinfos(t, file)
	if n := strings.Count(info, "Number of stat entries = 1"); n != len(want) {
		t.Errorf("%s: capinfos shows %d interfaces with a statistics block, want %d:\n%s", filepath.Base(file), n, len(want), info)
	}
}

// cliNoCrash checks stderr for panics and runtime traces.
func cliNoCrash(t *testing.T, stderr string) {
	t.Helper()
	for _, bad := range []string{"panic:", "goroutine ", "runtime error", "SIGSEGV"} {
		if strings.Contains(stderr, bad) {
			t.Fatalf("stderr shows a crash (%q):\n%s", bad, stderr)
		}
	}
}

// SIGINT and SIGTERM end a capture cleanly: exit 0, the statistics lines on
// stderr, the file complete with its statistics blocks.
func TestCLISignalsStop(t *testing.T) {
	for _, tc := range []struct {
		name string
		sig  syscall.Signal
	}{{"SIGINT", syscall.SIGINT}, {"SIGTERM", syscall.SIGTERM}} {
		sig := tc.sig
		t.Run(tc.name, func(t *testing.T) {
			ns := liveNS(t, "tshark", "capinfos")
			dir := t.TempDir()
			file := filepath.Join(dir, "out.pcapng")
			p := liveStart(t, nil, nil, "-g", "5000", "--netns", ns.Name, "-w", file)
			p.waitListening(t, 1)
			cliSendWebDNS(t, newUDPSender(t, ns, "udp4"), 0, 5, 3)
			time.Sleep(300 * time.Millisecond)
			took := liveStop(t, p, sig)
			t.Logf("exit 0 %v after %v", took.Round(time.Millisecond), sig)
			stderr := p.stderr.String()
			cliNoCrash(t, stderr)
			if !strings.HasSuffix(stderr, cliStatsBlock(8)) {
				t.Errorf("stderr does not end with the statistics:\n%s\nwant at its end:\n%s", stderr, cliStatsBlock(8))
			}
			cliCheckFile(t, file, map[string]int{"nflog:5000:web-in": 5, "nflog:5000:dns-out": 3})
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("directory holds %v, want only out.pcapng", names)
			}
		})
	}
}

// cliRotated lists finished and unfinished (.part) rotated files of out.
func cliRotated(t *testing.T, dir string) (done, parts []string) {
	t.Helper()
	re := regexp.MustCompile(`^out_\d{5,}_\d{8}T\d{6}Z\.pcapng(\.part)?$`)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		m := re.FindStringSubmatch(e.Name())
		switch {
		case m == nil:
		case m[1] != "":
			parts = append(parts, filepath.Join(dir, e.Name()))
		default:
			done = append(done, filepath.Join(dir, e.Name()))
		}
	}
	return done, parts
}

// SIGHUP starts a new file now, even far from -C's size; the capture goes
// on into it, and each file has its own packets.
func TestCLISignalHUPRotates(t *testing.T) {
	ns := liveNS(t, "tshark", "capinfos")
	dir := t.TempDir()
	p := liveStart(t, nil, nil, "-g", "5000", "--netns", ns.Name, "-w", filepath.Join(dir, "out.pcapng"), "-C", "1GB")
	p.waitListening(t, 1)
	s := newUDPSender(t, ns, "udp4")
	cliSendWebDNS(t, s, 0, 3, 1)
	time.Sleep(300 * time.Millisecond)
	if done, parts := cliRotated(t, dir); len(done) != 0 || len(parts) != 1 {
		t.Fatalf("before SIGHUP: finished files %v, open files %v; want one open file", done, parts)
	}
	p.cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(5 * time.Second)
	for {
		done, parts := cliRotated(t, dir)
		if len(done) == 1 && len(parts) == 1 {
			break
		}
		if time.Now().After(deadline) || !liveRunning(p) {
			t.Fatalf("after SIGHUP: finished files %v, open files %v; want one of each (running: %v); stderr:\n%s",
				done, parts, liveRunning(p), p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cliSendWebDNS(t, s, 10, 2, 2)
	time.Sleep(300 * time.Millisecond)
	liveStop(t, p, syscall.SIGINT)
	stderr := p.stderr.String()
	cliNoCrash(t, stderr)
	if !strings.HasSuffix(stderr, cliStatsBlock(8)) {
		t.Errorf("stderr does not end with the statistics:\n%s", stderr)
	}
	done, parts := cliRotated(t, dir)
	if len(done) != 2 || len(parts) != 0 {
		t.Fatalf("after exit: finished files %v, open files %v; want two finished", done, parts)
	}
	// Names sort by sequence number: the first file has what came before
	// SIGHUP.
	cliCheckFile(t, done[0], map[string]int{"nflog:5000:web-in": 3, "nflog:5000:dns-out": 1})
	cliCheckFile(t, done[1], map[string]int{"nflog:5000:web-in": 2, "nflog:5000:dns-out": 2})
}

// SIGUSR1 prints the statistics lines to stderr while the capture goes on.
func TestCLISignalUSR1Stats(t *testing.T) {
	ns := liveNS(t, "tshark", "capinfos")
	file := filepath.Join(t.TempDir(), "out.pcapng")
	p := liveStart(t, nil, nil, "-g", "5000", "--netns", ns.Name, "-w", file)
	p.waitListening(t, 1)
	s := newUDPSender(t, ns, "udp4")
	cliSendWebDNS(t, s, 0, 2, 1)
	time.Sleep(300 * time.Millisecond)
	p.cmd.Process.Signal(syscall.SIGUSR1)
	liveWaitStderr(t, p, cliStatsBlock(3), 1, 5*time.Second)
	time.Sleep(100 * time.Millisecond)
	if !liveRunning(p) {
		t.Fatalf("nflogcap exited after SIGUSR1; stderr:\n%s", p.stderr.String())
	}
	cliSendWebDNS(t, s, 10, 3, 1)
	time.Sleep(300 * time.Millisecond)
	p.cmd.Process.Signal(syscall.SIGUSR1)
	liveWaitStderr(t, p, cliStatsBlock(7), 1, 5*time.Second)
	liveStop(t, p, syscall.SIGINT)
	stderr := p.stderr.String()
	cliNoCrash(t, stderr)
	if n := strings.Count(stderr, " packets captured\n"); n != 3 {
		t.Errorf("statistics printed %d times, want 3 (two SIGUSR1, exit):\n%s", n, stderr)
	}
	if !strings.HasSuffix(stderr, cliStatsBlock(7)) {
		t.Errorf("stderr does not end with the statistics:\n%s", stderr)
	}
	cliCheckFile(t, file, map[string]int{"nflog:5000:web-in": 5, "nflog:5000:dns-out": 2})
}
