package e2e_test

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nflogcap/nflogcap/internal/loadgen"
)

// relStormResult is what one storm run saw.
type relStormResult struct {
	logged uint64 // packets the nft rule logged (its counter)
	exit   relExit
	stderr string
	sent   int
}

// relStorm runs nflogcap with a fixed 64 kB receive buffer (plus args)
// against a full-rate flood of d, sends sentinels, stops it with SIGINT and
// checks the exit statistics: captured + lost == logged, exactly, with
// ENOBUFS events and the overrun warning on stderr. During the flood it
// stalls nflogcap briefly and often, and asks for statistics (SIGUSR1)
// every half second when usr1 is set.
func relStorm(t *testing.T, d time.Duration, usr1 bool, args ...string) relStormResult {
	t.Helper()
	ns := newE2ENS(t, relStormRuleset)
	argv := append([]string{"-g", "5000", "--netns", ns.Name, "--rcvbuf", "64kB"}, args...)
	p := start(t, nil, argv...)
	p.waitListening(t, 1)
	if !strings.Contains(p.stderr.String(), "receive buffer 62.5 KiB, link type") {
		t.Errorf("listening line does not show a fixed 62.5 KiB buffer:\n%s", p.stderr.String())
	}
	// The reader alone may keep up with the flood even with 64 kB (it
	// did on some runs), so the storm is made certain by stalls.
	stopStalls := relStalls(p, usr1)
	res := relFlood(t, ns, "127.0.0.1:7100", d, 64, 0)
	stopStalls()
	relSentinels(t, ns, "127.0.0.1:7100", 5)
	took := relStop(t, p, 20*time.Second)
	r := relStormResult{logged: relCounter(t, ns, "logged"), stderr: p.stderr.String(), sent: res.Sent}
	r.exit = relParseExit(t, r.stderr)
	e := r.exit
	t.Logf("flood: %d datagrams in %v; nft logged %d; nflogcap: %d captured + %d lost = %d, %d ENOBUFS events, receive buffer %s; exit took %v",
		res.Sent, res.Duration.Round(time.Millisecond), r.logged, e.captured, e.lost, e.captured+e.lost, e.enobufs, e.rcvbuf, took.Round(time.Millisecond))
	if e.captured+e.lost != r.logged {
		t.Errorf("exit statistics: %d captured + %d lost = %d, kernel logged %d", e.captured, e.lost, e.captured+e.lost, r.logged)
	}
	if e.pending {
		t.Errorf("losses still pending after the sentinels:\n%s", relTail(r.stderr))
	}
	if e.enobufs == 0 || e.lost == 0 {
		t.Errorf("no storm: %d ENOBUFS events, %d lost (the test must overrun a 64 kB buffer)", e.enobufs, e.lost)
	}
	if !strings.Contains(r.stderr, "the kernel dropped packets (receive buffer full)") {
		t.Errorf("no overrun warning on stderr:\n%s", relTail(r.stderr))
	}
	if strings.Contains(r.stderr, "grown to") || e.rcvbuf != "62.5 KiB" {
		t.Errorf("--rcvbuf alone must fix the buffer; exit says receive buffer %q:\n%s", e.rcvbuf, relTail(r.stderr))
	}
	if r.logged < 5 || e.captured < 5 {
		t.Errorf("too little traffic: logged %d, captured %d", r.logged, e.captured)
	}
	return r
}

// relStalls stops nflogcap (SIGSTOP) for 25 ms every 250 ms, as a reader
// descheduled on a busy machine would be, until the returned func is
// called; each stall overruns a small buffer under a flood, where the
// reader alone may keep up (it did on a faster machine). With usr1 it also
// asks for statistics (SIGUSR1) every other stall.
func relStalls(p *proc, usr1 bool) (stop func()) {
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for i := 1; ; i++ {
			select {
			case <-quit:
				return
			case <-tick.C:
			}
			p.cmd.Process.Signal(syscall.SIGSTOP)
			time.Sleep(25 * time.Millisecond)
			p.cmd.Process.Signal(syscall.SIGCONT)
			if usr1 && i%2 == 0 {
				p.cmd.Process.Signal(syscall.SIGUSR1)
			}
		}
	}()
	return func() { close(quit); <-done }
}

// relCheckFile checks one pcapng file against itself: tshark and the block
// walk agree on packets and drops, and the statistics blocks sum the
// packets' drop counts. It returns packets and drops.
func relCheckFile(t *testing.T, path string) (uint64, uint64) {
	t.Helper()
	relValid(t, path)
	f := relReadPcapng(t, path)
	tp, td := relTsharkDrops(t, path)
	if tp != f.packets || td != f.drops {
		t.Errorf("%s: tshark reads %d packets with drop count %d, the blocks hold %d and %d", filepath.Base(path), tp, td, f.packets, f.drops)
	}
	if f.isbs != len(f.ifaces) || f.isbDrop != f.drops || f.isbDeliv != f.packets {
		t.Errorf("%s: %d ISBs for %d interfaces; isb_ifdrop sum %d, epb_dropcount sum %d; isb_usrdeliv sum %d, packets %d",
			filepath.Base(path), f.isbs, len(f.ifaces), f.isbDrop, f.drops, f.isbDeliv, f.packets)
	}
	return f.packets, f.drops
}

// Issue 6.1: under an ENOBUFS storm (fixed 64 kB buffer, full-rate flood)
// captured + lost equals what the kernel logged, exactly, in the exit
// statistics and in the file (packets + epb_dropcount, and isb_ifdrop).
func TestReliabilityLossStormFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "storm.pcapng")
	r := relStorm(t, 2*time.Second, false, "-w", file)
	packets, drops := relCheckFile(t, file)
	t.Logf("file: %d packets + %d dropcount = %d", packets, drops, packets+drops)
	if packets+drops != r.logged || packets != r.exit.captured || drops != r.exit.lost {
		t.Errorf("file: %d packets + %d dropped = %d; kernel logged %d; exit said %d captured, %d lost",
			packets, drops, packets+drops, r.logged, r.exit.captured, r.exit.lost)
	}
}

// Issue 6.1 with rotation: every file accounts for itself, the manifest sums
// to what the kernel logged.
func TestReliabilityLossStormRotated(t *testing.T) {
	dir := t.TempDir()
	r := relStorm(t, 2*time.Second, false, "-w", filepath.Join(dir, "storm.pcapng"), "-C", "8MB")
	files := relPcapngFiles(t, dir, "storm")
	if len(files) < 2 {
		t.Fatalf("want several rotated files, got %v", files)
	}
	byName := map[string][2]uint64{}
	var fp, fd uint64
	for _, f := range files {
		p, d := relCheckFile(t, f)
		byName[filepath.Base(f)] = [2]uint64{p, d}
		fp, fd = fp+p, fd+d
	}
	var mp, ml uint64
	records := 0
	for _, e := range relManifest(t, dir) {
		if e.Type != "file" {
			continue
		}
		records++
		if e.Packets == nil || e.Lost == nil {
			t.Errorf("manifest record of %s lacks packets or lost", e.Name)
			continue
		}
		mp, ml = mp+*e.Packets, ml+*e.Lost
		if got, ok := byName[e.Name]; !ok || got != [2]uint64{*e.Packets, *e.Lost} {
			t.Errorf("manifest says %s holds %d packets, %d lost; the file: %v", e.Name, *e.Packets, *e.Lost, got)
		}
	}
	t.Logf("%d files; manifest: %d packets + %d lost = %d; files: %d + %d", len(files), mp, ml, mp+ml, fp, fd)
	if records != len(files) {
		t.Errorf("manifest has %d file records for %d files", records, len(files))
	}
	if mp+ml != r.logged || fp+fd != r.logged {
		t.Errorf("kernel logged %d; manifest: %d packets + %d lost; files: %d packets + %d dropcount", r.logged, mp, ml, fp, fd)
	}
}

// Issue 6.2, fault "ENOBUFS for seconds": a tiny fixed buffer under a
// sustained flood of 5 s, with statistics asked for during it: no panic, no
// hang, a valid file and exact counts.
func TestReliabilityENOBUFSSustained(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sustained.pcapng")
	r := relStorm(t, 5*time.Second, true, "-w", file)
	if n := strings.Count(r.stderr, "packets captured"); n < 3 {
		t.Errorf("SIGUSR1 during the storm printed statistics %d times (with the exit's), want several", n)
	}
	if r.exit.enobufs < 10 {
		t.Errorf("only %d ENOBUFS events in 5 s of flood", r.exit.enobufs)
	}
	packets, drops := relCheckFile(t, file) // ValidPrefix, tshark and the block walk
	if packets+drops != r.logged {
		t.Errorf("file: %d packets + %d dropped = %d; kernel logged %d", packets, drops, packets+drops, r.logged)
	}
}

// A stop in the middle of a storm: nflogcap exits at once, cleanly, the
// file is whole and says what the exit statistics say.
func TestReliabilityStopDuringStorm(t *testing.T) {
	ns := newE2ENS(t, relStormRuleset)
	file := filepath.Join(t.TempDir(), "stop.pcapng")
	p := start(t, nil, "-g", "5000", "--netns", ns.Name, "--rcvbuf", "64kB", "-w", file)
	p.waitListening(t, 1)
	var s *loadgen.Sender
	if err := ns.Do(func() error {
		var err error
		s, err = loadgen.Dial(netip.MustParseAddrPort("127.0.0.1:7100"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := s.Send(ctx, loadgen.Config{Count: 1 << 40, Size: 64})
		done <- err
	}()
	stopStalls := relStalls(p, false)
	time.Sleep(1500 * time.Millisecond)
	stopStalls()
	took := relStop(t, p, 15*time.Second)
	if err := <-done; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("flood: %v", err)
	}
	e := relParseExit(t, p.stderr.String())
	logged := relCounter(t, ns, "logged")
	t.Logf("stopped mid-storm in %v: %d captured, %d lost, %d ENOBUFS; nft logged %d (including after the stop)",
		took.Round(time.Millisecond), e.captured, e.lost, e.enobufs, logged)
	packets, drops := relCheckFile(t, file)
	if packets != e.captured || drops != e.lost {
		t.Errorf("file: %d packets, %d dropped; exit: %d captured, %d lost", packets, drops, e.captured, e.lost)
	}
	if e.captured+e.lost > logged || e.enobufs == 0 {
		t.Errorf("%d captured + %d lost > %d logged, or no ENOBUFS (%d)", e.captured, e.lost, logged, e.enobufs)
	}
}

// Issue 6.1, auto-growth: --rcvbuf 64kB --rcvbuf-max 4MiB grows the buffer
// under a flood, says so on stderr and reports the larger buffer at exit;
// the counts stay exact. (--rcvbuf alone stays fixed: relStorm checks it.)
func TestReliabilityRcvbufGrowth(t *testing.T) {
	file := filepath.Join(t.TempDir(), "grow.pcapng")
	ns := newE2ENS(t, relStormRuleset)
	p := start(t, nil, "-g", "5000", "--netns", ns.Name, "--rcvbuf", "64kB", "--rcvbuf-max", "4MiB", "-w", file)
	p.waitListening(t, 1)
	if !strings.Contains(p.stderr.String(), "receive buffer 62.5 KiB (grows to 4 MiB)") {
		t.Errorf("listening line does not announce the growth:\n%s", p.stderr.String())
	}
	stopStalls := relStalls(p, false)
	relFlood(t, ns, "127.0.0.1:7100", 2*time.Second, 64, 0)
	stopStalls()
	relSentinels(t, ns, "127.0.0.1:7100", 3)
	relStop(t, p, 20*time.Second)
	stderr := p.stderr.String()
	e := relParseExit(t, stderr)
	logged := relCounter(t, ns, "logged")
	t.Logf("logged %d, captured %d, lost %d, %d ENOBUFS events, receive buffer at exit %s", logged, e.captured, e.lost, e.enobufs, e.rcvbuf)
	if !strings.Contains(stderr, "receive buffer grown to") {
		t.Errorf("stderr does not report the growth:\n%s", relTail(stderr))
	}
	if got := relParseSize(t, e.rcvbuf); got <= 64000 || got > 4<<20 {
		t.Errorf("exit reports receive buffer %q, want more than 62.5 KiB", e.rcvbuf)
	}
	if e.captured+e.lost != logged || e.pending {
		t.Errorf("%d captured + %d lost != %d logged (pending %v)", e.captured, e.lost, logged, e.pending)
	}
}

// relParseSize reads a size as nflogcap prints it: "62.5 KiB", "4 MiB".
func relParseSize(t *testing.T, s string) float64 {
	t.Helper()
	num, unit, _ := strings.Cut(s, " ")
	f, err := strconv.ParseFloat(num, 64)
	mult := map[string]float64{"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}[unit]
	if err != nil || mult == 0 {
		t.Fatalf("size %q: not NUMBER UNIT", s)
	}
	return f * mult
}
