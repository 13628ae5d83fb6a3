package e2e_test

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// `--live FIFO` beside a rotating archive (-C), which dumpcap refuses: one
// capture streams every packet to the viewer and writes every packet to
// the archive, whose files each stand alone and verify.
func TestLiveWithRotatingArchive(t *testing.T) {
	ns := liveNS(t, "tshark", "capinfos", "sha256sum")
	fifo := liveMkfifo(t, "live.fifo")
	dir := t.TempDir()
	r := newLiveReader(t, fifo)
	p := liveStart(t, nil, nil, "-g", "5000", "--netns", ns.Name, "-w", filepath.Join(dir, "fw.pcapng"), "-C", "100kB", "--live", fifo)
	p.waitListening(t, 1)
	s := newLiveSender(t, ns, "udp4")
	const n = 600 // 1200-byte datagrams: about 7 files of 100 kB
	liveSendBursts(t, s, 0, n)
	if !r.waitFor(10*time.Second, func(r *liveReader) bool { return len(r.packets) >= n }) {
		t.Errorf("the live reader did not get all %d packets", n)
	}
	liveStop(t, p, syscall.SIGINT)
	r.finish(t, 5*time.Second)
	r.mu.Lock()
	streamed := len(r.packets)
	r.mu.Unlock()
	if streamed != n {
		t.Errorf("live stream has %d packets, want %d", streamed, n)
	}
	files := rotCheckArchive(t, dir, rotArchiveCheck{isb: true})
	archived := 0
	for _, f := range files {
		archived += len(f.pkts)
	}
	if archived != n || len(files) < 3 {
		t.Errorf("archive has %d packets in %d files, want %d in several", archived, len(files), n)
	}
	liveStatsLines(t, p.stderr.String(), n)
}
