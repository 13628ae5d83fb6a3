//go:build linux

package capture

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/nflogcap/nflogcap/internal/loadgen"
	"github.com/nflogcap/nflogcap/internal/netns/nstest"
	"github.com/nflogcap/nflogcap/nflog"
	"github.com/nflogcap/nflogcap/rotate"
)

// lockedBuffer is a bytes.Buffer the capture's goroutines may write to.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// A capture that rotates again and again, with a manifest and compression,
// keeps the same number of goroutines: rotations, finishing and compressing
// files start none that outlive their file. (The soak, scripts/soak.sh,
// watches the binary's threads, descriptors and memory for minutes.)
func TestIntegrationGoroutinesFlatOverRotations(t *testing.T) {
	ns := nstest.New(t)
	if err := ns.Nft(`table inet t {
	chain in {
		type filter hook input priority 0;
		udp dport 9 log prefix "soak" group 5000 drop
	}
}`); err != nil {
		t.Fatal(err)
	}
	var s *loadgen.Sender
	if err := ns.Do(func() (err error) {
		s, err = loadgen.Dial(netip.MustParseAddrPort("127.0.0.1:9"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	dir := t.TempDir()
	var stderr lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cp, err := Start(ctx, Options{
		Groups:   []int{5000},
		Listener: nflog.Config{CopyMode: nflog.CopyPacket, Flags: nflog.FlagSeq, QThresh: 64, Timeout: 10 * time.Millisecond, NetNS: ns.Path, Families: []nflog.Family{}},
		Write:    filepath.Join(dir, "fw.pcapng"),
		Rotate:   rotate.Config{MaxBytes: 64 << 10, MaxFiles: 5, Manifest: true, Compress: rotate.Zstd},
		Stderr:   &stderr,
		Quiet:    true,
	})
	if err != nil {
		t.Fatal(err)
	}
	// 20 rounds of 200 datagrams of 1 kB: about 3 files a round.
	var counts []int
	for round := range 20 {
		if _, err := s.Send(ctx, loadgen.Config{Count: 200, Size: 1000, Rate: 20000}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond) // the batch timeout, the finisher, the compressor
		if round >= 2 {
			counts = append(counts, runtime.NumGoroutine())
		}
	}
	cancel()
	st, err := cp.Wait()
	if err != nil {
		t.Fatalf("capture: %v\n%s", err, stderr.b.String())
	}
	if st.Captured != 4000 || st.Lost != 0 {
		t.Errorf("captured %d, lost %d, want 4000 and 0", st.Captured, st.Lost)
	}
	index, err := os.ReadFile(filepath.Join(dir, "MANIFEST.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(index, []byte(`"sha256"`)); n < 30 {
		t.Fatalf("%d files recorded: too few rotations to tell", n)
	}
	lowest, last := counts[0], counts[len(counts)-1]
	for _, n := range counts {
		lowest = min(lowest, n)
	}
	// A goroutine per rotation left behind would add about 3 a round, 50
	// over the rounds; a few come and go with the work in flight.
	if last > lowest+8 {
		t.Errorf("goroutines over the rounds: %v: they grow with the rotations", counts)
	}
	t.Logf("goroutines per round: %v", counts)
}
