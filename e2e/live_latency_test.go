package e2e_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	livePackets = 20                     // measured datagrams
	liveGap     = 100 * time.Millisecond // between them
	liveGoal    = 50 * time.Millisecond  // issue 7: a logged packet reaches the reader within 50 ms
	liveWarmSeq = 1000                   // numbers of the warm-up datagrams
)

// liveMeasure makes sure the stream flows (warm-up datagrams until one
// reaches the reader), then sends livePackets numbered datagrams liveGap
// apart and measures, for each, the time from its send to the arrival of its
// packet block at the plain reader. Each packet must arrive before the next
// is sent: nflogcap hands every batch to the pipe at once instead of holding
// it back as dumpcap does (1-2 s). Whether the worst case meets the 50 ms of
// the issue is logged.
func liveMeasure(t *testing.T, what string, r *liveReader, s *liveSender) {
	t.Helper()
	for warm := 0; ; warm++ {
		if warm == 30 {
			t.Fatalf("%s: none of %d warm-up datagrams reached the reader", what, warm)
		}
		s.send(t, "127.0.0.1:7001", liveWarmSeq+warm, 64)
		if r.waitFor(liveGap, func(r *liveReader) bool { return len(r.packets) > 0 }) {
			break
		}
	}
	time.Sleep(liveGap) // let any warm-up still in flight arrive

	sent := make([]time.Time, livePackets+1)
	start := time.Now()
	for i := range livePackets {
		time.Sleep(time.Until(start.Add(time.Duration(i) * liveGap)))
		sent[i] = s.send(t, "127.0.0.1:7001", i, 64)
	}
	sent[livePackets] = sent[livePackets-1].Add(liveGap)
	r.waitFor(2*time.Second, func(r *liveReader) bool {
		for i := range livePackets {
			if _, ok := r.bySeq[i]; !ok {
				return false
			}
		}
		return true
	})

	var lat []time.Duration
	for i := range livePackets {
		at, ok := r.arrival(i)
		if !ok {
			t.Errorf("%s: packet %d never reached the reader", what, i)
			continue
		}
		d := at.Sub(sent[i])
		lat = append(lat, d)
		if !at.Before(sent[i+1]) {
			t.Errorf("%s: packet %d reached the reader %v after it was sent, after the next packet was sent (%v later): batches are held back",
				what, i, d.Round(time.Microsecond), sent[i+1].Sub(sent[i]).Round(time.Microsecond))
		}
	}
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	p50, p95, worst := livePercentile(lat, 0.50), livePercentile(lat, 0.95), lat[len(lat)-1]
	verdict := "met"
	if worst > liveGoal {
		verdict = "not met"
	}
	t.Logf("%s: latency from send to packet block at the FIFO reader, %d packets sent %v apart: median %v, p95 %v, max %v; "+
		"issue 7's goal (max within %v) %s on this run (logged, not asserted; asserted: each packet arrived before the next was sent)",
		what, len(lat), liveGap, p50.Round(time.Microsecond), p95.Round(time.Microsecond), worst.Round(time.Microsecond), liveGoal, verdict)
}

// liveSaveStream writes a stream's bytes to a file for tshark.
func liveSaveStream(t *testing.T, raw []byte) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "stream.pcapng")
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// liveCheckNames checks that tshark reads n packets from file, all on
// interface want.
func liveCheckNames(t *testing.T, what, file string, n int, want string) {
	t.Helper()
	names := liveTsharkIfaces(t, file)
	if len(names) != n {
		t.Errorf("%s: tshark reads %d packets, want %d", what, len(names), n)
	}
	for i, name := range names {
		if name != want {
			t.Errorf("%s: packet %d on interface %q, want %q", what, i+1, name, want)
			break
		}
	}
}

// `-w FIFO`: a plain reader of the FIFO gets each packet block within one
// batch timeout of the send; the stream is whole pcapng that tshark reads.
func TestLiveLatencyFIFO(t *testing.T) {
	ns := liveNS(t, "tshark")
	fifo := liveMkfifo(t, "live.fifo")
	r := newLiveReader(t, fifo)
	p := liveStart(t, nil, nil, "-g", "5000", "--netns", ns.Name, "-w", fifo)
	p.waitListening(t, 1)
	if !strings.Contains(p.stderr.String(), "waiting for a reader on FIFO "+fifo) {
		t.Errorf("no message about waiting for the FIFO's reader:\n%s", p.stderr.String())
	}
	s := newLiveSender(t, ns, "udp4")
	liveMeasure(t, "-w FIFO", r, s)

	took := liveStop(t, p, syscall.SIGINT)
	t.Logf("exit %v after SIGINT", took.Round(time.Millisecond))
	raw := r.finish(t, 5*time.Second)
	liveCheckNames(t, "-w FIFO stream", liveSaveStream(t, raw), len(s.sent), "nflog:5000:web-in")
	liveStatsLines(t, p.stderr.String(), len(s.sent))
}

// `--live FIFO` next to `-w FILE`: the live view has the same latency, and
// both the live stream and the file are whole pcapng with every packet the
// view was connected for (the file: all of them).
func TestLiveLatencyLiveFIFOWithFile(t *testing.T) {
	ns := liveNS(t, "tshark", "capinfos")
	fifo := liveMkfifo(t, "live.fifo")
	file := filepath.Join(t.TempDir(), "archive.pcapng")
	r := newLiveReader(t, fifo)
	p := liveStart(t, nil, nil, "-g", "5000", "--netns", ns.Name, "-w", file, "--live", fifo)
	p.waitListening(t, 1)
	s := newLiveSender(t, ns, "udp4")
	liveMeasure(t, "--live FIFO with -w FILE", r, s)

	liveStop(t, p, syscall.SIGINT)
	raw := r.finish(t, 5*time.Second)
	r.mu.Lock()
	streamed := len(r.packets)
	r.mu.Unlock()
	liveCheckNames(t, "--live stream", liveSaveStream(t, raw), streamed, "nflog:5000:web-in")
	if streamed < livePackets {
		t.Errorf("live stream has %d packets, want at least the %d measured", streamed, livePackets)
	}
	liveCheckNames(t, "-w file", file, len(s.sent), "nflog:5000:web-in")
	if info := capinfos(t, file); !strings.Contains(info, "Number of stat entries = 1") {
		t.Errorf("file has no interface statistics block:\n%s", info)
	}
	stderr := p.stderr.String()
	liveStatsLines(t, stderr, len(s.sent))
	if !strings.Contains(stderr, "live view "+fifo+": reader connected") {
		t.Errorf("no message that the live view's reader connected:\n%s", stderr)
	}
}
