package e2e_test

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// liveKeepSending sends numbered datagrams 50 ms apart from first on until
// stop says so (at most 60); it returns how many it sent.
func liveKeepSending(t *testing.T, s *liveSender, first int, stop func() bool) int {
	t.Helper()
	n := 0
	for ; n < 60 && !stop(); n++ {
		s.send(t, "127.0.0.1:7001", first+n, 64)
		time.Sleep(50 * time.Millisecond)
	}
	return n
}

// When the reader of `-w FIFO` goes away, nflogcap says so and ends cleanly
// (exit 0, statistics), by itself.
func TestLiveReaderGoneFIFO(t *testing.T) {
	ns := liveNS(t)
	fifo := liveMkfifo(t, "live.fifo")
	r := newLiveReader(t, fifo)
	p := liveStart(t, nil, nil, "-g", "5000", "--netns", ns.Name, "-w", fifo)
	p.waitListening(t, 1)
	s := newLiveSender(t, ns, "udp4")
	s.send(t, "127.0.0.1:7001", 0, 64)
	if !r.waitFor(2*time.Second, func(r *liveReader) bool { return len(r.packets) == 1 }) {
		t.Fatal("the first packet did not reach the reader")
	}
	r.close()
	liveKeepSending(t, s, 1, func() bool { return !liveRunning(p) })
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit %d after the reader went away; stderr:\n%s", code, p.stderr.String())
	}
	stderr := p.stderr.String()
	cliNoCrash(t, stderr)
	if !strings.Contains(stderr, "FIFO "+fifo+": the reader of the output went away; stopping") {
		t.Errorf("no clear message that the reader went away:\n%s", stderr)
	}
	if !strings.Contains(stderr, " packets captured\n") || !strings.Contains(stderr, "\n0 packets lost\n") {
		t.Errorf("no statistics at exit:\n%s", stderr)
	}
}

// When the reader of `--live FIFO` goes away, the capture goes on into its
// file; a new reader gets a new, whole stream; the file has every packet.
func TestLiveReaderGoneLiveView(t *testing.T) {
	ns := liveNS(t, "tshark", "capinfos")
	fifo := liveMkfifo(t, "live.fifo")
	file := filepath.Join(t.TempDir(), "archive.pcapng")
	first := newLiveReader(t, fifo)
	p := liveStart(t, nil, nil, "-g", "5000", "--netns", ns.Name, "-w", file, "--live", fifo)
	p.waitListening(t, 1)
	s := newLiveSender(t, ns, "udp4")
	seq := liveKeepSending(t, s, 0, func() bool {
		return first.waitFor(time.Millisecond, func(r *liveReader) bool { return len(r.packets) > 0 })
	})
	first.close()
	seq += liveKeepSending(t, s, seq, func() bool {
		return strings.Contains(p.stderr.String(), "waiting for a new reader")
	})
	if !liveRunning(p) {
		t.Fatalf("nflogcap exited when the live view's reader went away; stderr:\n%s", p.stderr.String())
	}
	second := newLiveReader(t, fifo)
	seq += liveKeepSending(t, s, seq, func() bool {
		return second.waitFor(time.Millisecond, func(r *liveReader) bool { return len(r.packets) > 0 })
	})
	second.mu.Lock()
	got := len(second.packets)
	second.mu.Unlock()
	if got == 0 {
		t.Fatalf("the second reader of the live view got nothing; stderr:\n%s", p.stderr.String())
	}
	liveStop(t, p, syscall.SIGINT)
	raw := second.finish(t, 5*time.Second)
	second.mu.Lock()
	streamed := len(second.packets)
	second.mu.Unlock()
	liveCheckNames(t, "second live stream", liveSaveStream(t, raw), streamed, "nflog:5000:web-in")
	liveCheckNames(t, "-w file", file, seq, "nflog:5000:web-in")
	liveStatsLines(t, p.stderr.String(), seq)
	if n := strings.Count(p.stderr.String(), "live view "+fifo+": reader connected"); n != 2 {
		t.Errorf("%d messages about a reader connecting, want 2:\n%s", n, p.stderr.String())
	}
}
