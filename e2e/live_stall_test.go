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

	"golang.org/x/sys/unix"
)

// liveHang is how long a test waits for an exit that should come at once:
// a generous bound that tells a hang from a slow machine, not a speed target.
const liveHang = 10 * time.Second

// SIGINT or SIGTERM while `-w FIFO` waits for its reader ends nflogcap at
// once: exit 0 (nothing was captured, nothing lost) and a line saying so.
func TestLiveSignalWhileWaitingForFIFOReader(t *testing.T) {
	ns := liveNS(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			fifo := liveMkfifo(t, "noreader.fifo")
			p := liveStart(t, nil, nil, "-g", "5000", "--netns", ns.Name, "-w", fifo)
			liveWaitStderr(t, p, "waiting for a reader on FIFO "+fifo, 1, liveHang)
			time.Sleep(200 * time.Millisecond) // well into the wait
			p.cmd.Process.Signal(sig)
			if code := p.wait(t, liveHang); code != 0 {
				t.Fatalf("exit %d after %v while waiting for the FIFO's reader, want 0; stderr:\n%s", code, sig, p.stderr.String())
			}
			stderr := p.stderr.String()
			cliNoCrash(t, stderr)
			want := "nflogcap: stopped before the capture began: no reader opened FIFO " + fifo + "; nothing was captured\n"
			if !strings.HasSuffix(stderr, want) {
				t.Errorf("stderr does not end with %q:\n%s", want, stderr)
			}
			if strings.Contains(stderr, "listening on") {
				t.Errorf("nflogcap bound a group without a reader:\n%s", stderr)
			}
		})
	}
}

// liveStalledReader opens a FIFO for reading without blocking and reads
// nothing until told to: a viewer that is connected but frozen.
func liveStalledReader(t *testing.T, fifo string) *os.File {
	t.Helper()
	f, err := os.OpenFile(fifo, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// liveSendBursts sends n numbered 1200-byte datagrams to web-in, from
// first on, in bursts of 20, 15 ms apart (a kernel batch each or so).
func liveSendBursts(t *testing.T, s *liveSender, first, n int) {
	t.Helper()
	for i := first; i < first+n; i++ {
		s.send(t, "127.0.0.1:7001", i, 1200)
		if i%20 == 19 {
			time.Sleep(15 * time.Millisecond)
		}
	}
}

// `--live FIFO` whose reader has the FIFO open but never reads: SIGINT still
// ends nflogcap at once with exit 0, says the live view was cut off, and the
// archive has every packet.
func TestLiveStalledReaderDoesNotHoldExit(t *testing.T) {
	ns := liveNS(t, "tshark", "capinfos")
	fifo := liveMkfifo(t, "stalled.fifo")
	file := filepath.Join(t.TempDir(), "archive.pcapng")
	liveStalledReader(t, fifo)
	p := liveStart(t, nil, nil, "-g", "5000", "--netns", ns.Name, "-w", file, "--live", fifo)
	p.waitListening(t, 1)
	s := newLiveSender(t, ns, "udp4")
	const n = 400 // 480 kB: far more than the pipe and the live queue hold
	liveSendBursts(t, s, 0, n)
	liveWaitStderr(t, p, "live view "+fifo+": reader connected", 1, liveHang)
	time.Sleep(300 * time.Millisecond)

	p.cmd.Process.Signal(syscall.SIGINT)
	if code := p.wait(t, liveHang); code != 0 {
		t.Fatalf("exit %d after SIGINT, want 0; stderr:\n%s", code, p.stderr.String())
	}
	stderr := p.stderr.String()
	cliNoCrash(t, stderr)
	if !strings.Contains(stderr, "live view "+fifo+": the reader did not take the end of the stream within 2s; live view cut off\n") {
		t.Errorf("stderr does not say the live view was cut off:\n%s", stderr)
	}
	liveStatsLines(t, stderr, n)
	if got := len(liveTsharkIfaces(t, file)); got != n {
		t.Errorf("tshark reads %d packets in the archive, want the %d sent", got, n)
	}
	if info := capinfos(t, file); !strings.Contains(info, "Number of stat entries = 1") {
		t.Errorf("the archive has no interface statistics block:\n%s", info)
	}
}

// Packets the live view skips while its reader is behind are drops of the
// live stream: once the reader catches up, the next packet's epb_dropcount
// (tshark's frame.drop_count) counts them, and the live stream's packets
// plus its drop counts are every packet sent.
func TestLiveSkippedPacketsAreStreamDrops(t *testing.T) {
	ns := liveNS(t, "tshark")
	fifo := liveMkfifo(t, "behind.fifo")
	file := filepath.Join(t.TempDir(), "archive.pcapng")
	f := liveStalledReader(t, fifo)
	p := liveStart(t, nil, nil, "-g", "5000", "--netns", ns.Name, "-w", file, "--live", fifo)
	p.waitListening(t, 1)
	s := newLiveSender(t, ns, "udp4")
	const stalled, after = 400, 5
	liveSendBursts(t, s, 0, stalled)
	liveWaitStderr(t, p, "live view "+fifo+": reader connected", 1, liveHang)
	time.Sleep(300 * time.Millisecond)

	// The reader wakes up and takes what was queued for it.
	r := newLiveReaderFrom(f)
	settled := 0
	for last, deadline := -1, time.Now().Add(liveHang); ; {
		r.mu.Lock()
		settled = len(r.packets)
		r.mu.Unlock()
		if settled == last && settled > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the live reader did not catch up (%d packets)", settled)
		}
		last = settled
		time.Sleep(300 * time.Millisecond)
	}
	if settled >= stalled {
		t.Fatalf("the live stream has all %d packets sent while its reader read nothing: nothing was skipped, the test proves nothing", settled)
	}
	for i := stalled; i < stalled+after; i++ {
		s.send(t, "127.0.0.1:7001", i, 64)
		time.Sleep(30 * time.Millisecond)
	}
	if !r.waitFor(liveHang, func(r *liveReader) bool { return len(r.packets) == settled+after }) {
		t.Fatalf("the packets sent after the reader caught up did not all arrive")
	}
	liveStop(t, p, syscall.SIGINT)
	stream := liveSaveStream(t, r.finish(t, liveHang))

	var packets, drops, carriers int
	for _, row := range tsharkFields(t, stream, "frame.number", "frame.drop_count") {
		packets++
		if len(row) > 1 && row[1] != "" && row[1] != "0" {
			d, err := strconv.Atoi(row[1])
			if err != nil {
				t.Fatalf("frame.drop_count %q", row[1])
			}
			drops += d
			carriers++
		}
	}
	t.Logf("live stream: %d packets, %d counted as dropped on %d of them; %d sent", packets, drops, carriers, stalled+after)
	if packets != settled+after {
		t.Errorf("tshark reads %d packets in the live stream, the reader saw %d", packets, settled+after)
	}
	if packets+drops != stalled+after {
		t.Errorf("live stream: %d packets + %d dropped = %d, want the %d sent", packets, drops, packets+drops, stalled+after)
	}
	m := regexp.MustCompile(`(?m)^(\d+) packets not sent to the live view`).FindStringSubmatch(p.stderr.String())
	if m == nil || m[1] != strconv.Itoa(drops) {
		t.Errorf("exit statistics say %v packets not sent to the live view, the stream counts %d dropped:\n%s", m, drops, p.stderr.String())
	}
	liveStatsLines(t, p.stderr.String(), stalled+after)
}

// `-w FIFO` whose reader has the FIFO open but stops reading: the capture
// backs up (the kernel drops and counts what does not fit), and SIGINT still
// ends it: the rest of the stream is cut off after a grace period, the
// message says so, and the exit status is 0, as when the reader exits.
func TestLiveStalledMainFIFODoesNotHoldExit(t *testing.T) {
	ns := liveNS(t)
	fifo := liveMkfifo(t, "stalled-main.fifo")
	liveStalledReader(t, fifo)
	p := liveStart(t, nil, nil, "-g", "5000", "--netns", ns.Name, "-w", fifo)
	p.waitListening(t, 1)
	s := newLiveSender(t, ns, "udp4")
	// 6 MB: more than the pipe and the stream's four 1 MiB buffers hold,
	// so the read loop itself waits in a write.
	liveSendBursts(t, s, 0, 5000)
	time.Sleep(300 * time.Millisecond)

	p.cmd.Process.Signal(syscall.SIGINT)
	if code := p.wait(t, liveHang); code != 0 {
		t.Fatalf("exit %d after SIGINT, want 0; stderr:\n%s", code, p.stderr.String())
	}
	stderr := p.stderr.String()
	cliNoCrash(t, stderr)
	if !strings.Contains(stderr, fifo+": the reader took nothing for 3s after the capture was told to stop; stream cut off") {
		t.Errorf("stderr does not say the stream was cut off:\n%s", stderr)
	}
	if !regexp.MustCompile(`(?m)^\d+ packets captured$`).MatchString(stderr) {
		t.Errorf("no exit statistics:\n%s", stderr)
	}
}
