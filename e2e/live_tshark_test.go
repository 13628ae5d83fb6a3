package e2e_test

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nflogcap/nflogcap/internal/netns"
)

// liveTsharkProc is a running tshark.
type liveTsharkProc struct {
	cmd            *exec.Cmd
	stdout, stderr lockedBuffer
	done           chan struct{}
	err            error
}

// liveStartTshark runs tshark with its temporary files in the test's
// directory; stdin, when not nil, is its standard input. It is killed when
// the test ends.
func liveStartTshark(t *testing.T, stdin *os.File, args ...string) *liveTsharkProc {
	t.Helper()
	ts := &liveTsharkProc{cmd: exec.Command("tshark", args...), done: make(chan struct{})}
	ts.cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
	ts.cmd.Stdout, ts.cmd.Stderr = &ts.stdout, &ts.stderr
	if stdin != nil {
		ts.cmd.Stdin = stdin
	}
	if err := ts.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		ts.err = ts.cmd.Wait()
		close(ts.done)
	}()
	t.Cleanup(func() {
		select {
		case <-ts.done:
		default:
			ts.cmd.Process.Kill()
			<-ts.done
		}
	})
	return ts
}

// wait waits for tshark to end by itself (at the end of its input) and
// returns its standard output.
func (ts *liveTsharkProc) wait(t *testing.T, timeout time.Duration) string {
	t.Helper()
	select {
	case <-ts.done:
	case <-time.After(timeout):
		ts.cmd.Process.Kill()
		<-ts.done
		t.Fatalf("tshark did not end within %v of nflogcap's exit; stderr:\n%s", timeout, ts.stderr.String())
	}
	if ts.err != nil {
		t.Fatalf("tshark: %v; stderr:\n%s", ts.err, ts.stderr.String())
	}
	return ts.stdout.String()
}

// liveTsharkFieldArgs prints interface name and UDP payload of each packet
// (udp.payload: data.data is empty where a heuristic dissector claims one).
var liveTsharkFieldArgs = []string{"-T", "fields", "-E", "separator=\t", "-E", "occurrence=f", "-e", "frame.interface_name", "-e", "udp.payload"}

// liveSendMix sends n numbered datagrams, a third each as web-in over IPv4
// and IPv6 (input) and as dns-out over IPv4 (output), in bursts of 10, and
// returns the payloads per interface.
func liveSendMix(t *testing.T, ns *netns.NS, n int) sentTraffic {
	t.Helper()
	s4, s6 := newUDPSender(t, ns, "udp4"), newUDPSender(t, ns, "udp6")
	sent := sentTraffic{}
	for i := range n {
		size := 40 + i%200
		switch i % 3 {
		case 0:
			s4.send(t, "127.0.0.1:7002", i, 1, size)
			sent["nflog:5000:dns-out"] = append(sent["nflog:5000:dns-out"], hexOf(payload(i, size)))
		case 1:
			s6.send(t, "[::1]:7001", i, 1, size)
			sent["nflog:5000:web-in"] = append(sent["nflog:5000:web-in"], hexOf(payload(i, size)))
		default:
			s4.send(t, "127.0.0.1:7001", i, 1, size)
			sent["nflog:5000:web-in"] = append(sent["nflog:5000:web-in"], hexOf(payload(i, size)))
		}
		if i%10 == 9 {
			time.Sleep(time.Millisecond)
		}
	}
	return sent
}

// liveCompareTshark checks tshark's "interface<TAB>payload" lines against
// what was sent: every packet, on its interface, byte for byte.
func liveCompareTshark(t *testing.T, what, out string, sent sentTraffic, n int) {
	t.Helper()
	got := sentTraffic{}
	lines := 0
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		lines++
		iface, data, _ := strings.Cut(line, "\t")
		got[iface] = append(got[iface], data)
	}
	if lines != n {
		t.Errorf("%s: tshark shows %d packets, want %d", what, lines, n)
	}
	for iface, payloads := range sent {
		g := slices.Clone(got[iface])
		slices.Sort(g)
		w := slices.Clone(payloads)
		slices.Sort(w)
		if !slices.Equal(g, w) {
			t.Errorf("%s: tshark shows %d packets on %s, want the %d sent, byte for byte", what, len(g), iface, len(w))
		}
	}
	if !slices.Equal(keys(got), keys(sent)) {
		t.Errorf("%s: tshark shows interfaces %v, want %v", what, keys(got), keys(sent))
	}
}

// liveLines counts the non-empty lines of s.
func liveLines(s string) int {
	n := 0
	for _, line := range strings.Split(s, "\n") {
		if line != "" {
			n++
		}
	}
	return n
}

// `tshark -i FIFO` (what `wireshark -k -i FIFO` does) reading while nflogcap
// streams: it shows every packet, on the right interfaces, while nflogcap is
// still running (not only once it exits and the stream ends); after SIGINT
// the stream ends cleanly.
func TestLiveTsharkFIFO(t *testing.T) {
	ns := liveNS(t, "tshark")
	fifo := liveMkfifo(t, "wireshark.fifo")
	ts := liveStartTshark(t, nil, append([]string{"-i", fifo, "-l"}, liveTsharkFieldArgs...)...)
	p := liveStart(t, nil, nil, "-g", "5000", "--netns", ns.Name, "-w", fifo)
	p.waitListening(t, 1)
	const n = 300
	sent := liveSendMix(t, ns, n)
	// A bound on a wait, not a speed target: tshark (through dumpcap) may
	// take a while to print, but it must do so before the stream ends.
	for deadline := time.Now().Add(20 * time.Second); liveLines(ts.stdout.String()) < n; {
		if time.Now().After(deadline) || !liveRunning(p) {
			t.Fatalf("tshark printed %d of %d packets while nflogcap ran (running: %v); nflogcap stderr:\n%s\ntshark stderr:\n%s",
				liveLines(ts.stdout.String()), n, liveRunning(p), p.stderr.String(), ts.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !liveRunning(p) {
		t.Fatalf("nflogcap exited before tshark printed the packets; stderr:\n%s", p.stderr.String())
	}
	liveCompareTshark(t, "tshark -i FIFO, nflogcap running", ts.stdout.String(), sent, n)
	liveStop(t, p, syscall.SIGINT)
	out := ts.wait(t, 30*time.Second)
	liveCompareTshark(t, "tshark -i FIFO, after the stream ended", out, sent, n)
	liveStatsLines(t, p.stderr.String(), n)
}

// `nflogcap -w - | tshark -r -`: the two joined by a pipe, as a shell does.
func TestLiveStdoutPipeTshark(t *testing.T) {
	ns := liveNS(t, "tshark")
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	ts := liveStartTshark(t, pr, append([]string{"-r", "-", "-l"}, liveTsharkFieldArgs...)...)
	p := liveStart(t, nil, pw, "-g", "5000", "--netns", ns.Name, "-w", "-")
	pr.Close()
	pw.Close()
	p.waitListening(t, 1)
	const n = 300
	sent := liveSendMix(t, ns, n)
	time.Sleep(300 * time.Millisecond)
	liveStop(t, p, syscall.SIGINT)
	out := ts.wait(t, 30*time.Second)
	liveCompareTshark(t, "nflogcap -w - | tshark -r -", out, sent, n)
	liveStatsLines(t, p.stderr.String(), n)
}
