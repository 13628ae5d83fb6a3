package e2e_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/gopacket/pcapgo"

	"github.com/nflogcap/nflogcap/internal/netns"
	"github.com/nflogcap/nflogcap/internal/netns/nstest"
)

// relFaultRuleset logs UDP to 7300 on input with prefix "fault" to group
// 5000 and drops it (so unconnected senders see no ICMP errors either).
const relFaultRuleset = `
table inet rel {
	chain in {
		type filter hook input priority 0;
		udp dport 7300 log prefix "fault" group 5000 drop
	}
}`

// relStartOut starts nflogcap like start does, with standard output going
// to out (the write end of a pipe) instead of a buffer.
func relStartOut(t *testing.T, out *os.File, args ...string) *proc {
	t.Helper()
	p := &proc{done: make(chan struct{})}
	p.cmd = exec.Command(binary, args...)
	p.cmd.Stderr = &p.stderr
	p.cmd.Stdout = out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// relPacketsFrom reads up to n packets from a pcapng stream; it returns
// what it read and the error that ended it (nil after n packets, io.EOF at
// a clean end of the stream).
func relPacketsFrom(r io.Reader, n int) ([][]byte, error) {
	ng, err := pcapgo.NewNgReader(r, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		return nil, err
	}
	var pkts [][]byte
	for n <= 0 || len(pkts) < n {
		data, _, err := ng.ReadPacketData()
		if err != nil {
			return pkts, err
		}
		pkts = append(pkts, bytes.Clone(data))
	}
	return pkts, nil
}

// Issue 6.2, "the live pipe's reader exits": with -w - (pcapng) or without
// -w (text), a reader of standard output that goes away after a few
// packets ends the capture cleanly: a clear message, the statistics, exit 0.
func TestReliabilityPipeReaderExits(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"pcapng", []string{"-w", "-"}},
		{"text", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := newE2ENS(t, relFaultRuleset)
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pr.Close()
			p := relStartOut(t, pw, append([]string{"-g", "5000", "--netns", ns.Name}, tc.args...)...)
			pw.Close()
			p.waitListening(t, 1)
			s := newUDPSender(t, ns, "udp4")
			sent := 0
			for ; sent < 5; sent++ {
				s.send(t, "127.0.0.1:7300", sent, 1, 40)
			}
			// Read what the first packets produced, then leave.
			got := make(chan error, 1)
			go func() {
				if tc.name == "text" {
					buf := make([]byte, 4096)
					var all []byte
					for bytes.Count(all, []byte("\n")) < 5 {
						n, err := pr.Read(buf)
						if err != nil {
							got <- err
							return
						}
						all = append(all, buf[:n]...)
					}
					if !bytes.Contains(all, []byte("nflog:5000:fault In  in=lo out= IP 127.0.0.1.")) {
						got <- fmt.Errorf("unexpected text output %q", all)
						return
					}
					got <- nil
					return
				}
				_, err := relPacketsFrom(pr, 5)
				got <- err
			}()
			select {
			case err := <-got:
				if err != nil {
					t.Fatalf("reading the first packets: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("no packets on standard output; stderr:\n%s", p.stderr.String())
			}
			pr.Close()
			// Keep the traffic going until nflogcap notices (bounded).
			deadline := time.Now().Add(15 * time.Second)
		loop:
			for time.Now().Before(deadline) {
				select {
				case <-p.done:
					break loop
				case <-time.After(20 * time.Millisecond):
					s.send(t, "127.0.0.1:7300", sent, 1, 40)
					sent++
				}
			}
			code := p.wait(t, 10*time.Second)
			stderr := p.stderr.String()
			relCheckNoPanic(t, stderr)
			t.Logf("sent %d packets; stderr:\n%s", sent, stderr)
			if code != 0 {
				t.Errorf("exit %d, want 0 when the reader leaves", code)
			}
			if !strings.Contains(stderr, "nflogcap: standard output: the reader of the output went away; stopping") {
				t.Errorf("no clear message that the reader left:\n%s", stderr)
			}
			e := relParseExit(t, stderr)
			if e.captured < 5 || e.lost != 0 {
				t.Errorf("exit statistics: %d captured, %d lost", e.captured, e.lost)
			}
		})
	}
}

// Issue 6.2 with --live: the FIFO reader leaving does not stop the archive;
// a new reader attaches and gets a valid stream; the file is complete.
func TestReliabilityLiveReaderLeaves(t *testing.T) {
	ns := newE2ENS(t, relFaultRuleset)
	dir := t.TempDir()
	fifo, file := filepath.Join(dir, "live.fifo"), filepath.Join(dir, "archive.pcapng")
	p := start(t, nil, "-g", "5000", "--netns", ns.Name, "-w", file, "--live", fifo)
	p.waitListening(t, 1)
	// A reader blocked in open(2) is released by a writer that comes and
	// goes: nothing stays stuck when the test ends early.
	t.Cleanup(func() {
		if fd, err := syscall.Open(fifo, syscall.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			syscall.Close(fd)
		}
	})
	s := newUDPSender(t, ns, "udp4")
	sent := 0
	// sendUntil sends one packet every 20 ms until cond holds (at most 15 s).
	sendUntil := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(15 * time.Second); !cond(); {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not after 15 s (%d packets sent); stderr:\n%s", what, sent, p.stderr.String())
			}
			s.send(t, "127.0.0.1:7300", sent, 1, 48)
			sent++
			time.Sleep(20 * time.Millisecond)
		}
	}
	type result struct {
		pkts [][]byte
		err  error
	}
	reader := func(n int) chan result {
		ch := make(chan result, 1)
		go func() {
			f, err := os.Open(fifo)
			if err != nil {
				ch <- result{err: err}
				return
			}
			defer f.Close()
			pkts, err := relPacketsFrom(f, n)
			ch <- result{pkts, err}
		}()
		return ch
	}
	done := func(ch chan result, r *result) func() bool {
		return func() bool {
			select {
			case *r = <-ch:
				return true
			default:
				return false
			}
		}
	}

	// The first reader takes three packets and leaves.
	var r1 result
	sendUntil("first live reader gets 3 packets", done(reader(3), &r1))
	if r1.err != nil || len(r1.pkts) != 3 {
		t.Fatalf("first reader: %d packets, %v", len(r1.pkts), r1.err)
	}
	sendUntil("nflogcap notices the reader left", func() bool {
		return strings.Contains(p.stderr.String(), "waiting for a new reader")
	})
	// The archive goes on; a second reader attaches and reads to the end.
	ch2 := reader(0)
	sendUntil("second live reader connects", func() bool {
		return strings.Count(p.stderr.String(), "reader connected") >= 2
	})
	for range 10 {
		s.send(t, "127.0.0.1:7300", sent, 1, 48)
		sent++
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	relStop(t, p, 20*time.Second)
	var r2 result
	select {
	case r2 = <-ch2:
	case <-time.After(10 * time.Second):
		t.Fatal("second live reader did not see the end of the stream")
	}
	if !errors.Is(r2.err, io.EOF) || len(r2.pkts) < 10 {
		t.Errorf("second reader: %d packets, ended with %v; want at least 10 and a clean end", len(r2.pkts), r2.err)
	}
	stderr := p.stderr.String()
	if !regexp.MustCompile(`live view .*live\.fifo: .*the reader of the output went away; waiting for a new reader`).MatchString(stderr) {
		t.Errorf("stderr does not say the live reader left:\n%s", stderr)
	}
	if strings.Contains(stderr, "stopping") {
		t.Errorf("the live reader leaving stopped the capture:\n%s", stderr)
	}

	// The archive has every packet sent, each payload intact, in order.
	relValid(t, file)
	pkts := readCapture(t, file)
	e := relParseExit(t, stderr)
	t.Logf("sent %d; archive %d packets; reader 1 got %d, reader 2 got %d", sent, len(pkts), len(r1.pkts), len(r2.pkts))
	if len(pkts) != sent || e.captured != uint64(sent) || e.lost != 0 {
		t.Fatalf("archive holds %d packets, exit says %d captured %d lost; %d were sent", len(pkts), e.captured, e.lost, sent)
	}
	for i, pk := range pkts {
		if !bytes.HasSuffix(pk.data, payload(i, 48)) {
			t.Errorf("archive packet %d: payload is not datagram %d", i, i)
		}
	}
	// What the live readers got is what the archive has.
	for _, live := range append(r1.pkts, r2.pkts...) {
		var num int
		if _, err := fmt.Sscanf(string(live[len(live)-48:len(live)-40]), "%08d", &num); err != nil || num >= sent || !bytes.Equal(live, pkts[num].data) {
			t.Errorf("live packet %x is not one the archive holds", live)
		}
	}
	if n := len(tsharkFields(t, file, "frame.number")); n != sent {
		t.Errorf("tshark reads %d packets, want %d", n, sent)
	}
}

// relVeth makes two namespaces joined by a veth pair: vA (10.99.0.1) in
// the first, which gets ruleset, and vB (10.99.0.2) in the second. It
// returns both and vA's interface index.
func relVeth(t *testing.T, ruleset string) (a, b *netns.NS, index string) {
	t.Helper()
	a = newE2ENS(t, ruleset)
	b = nstest.New(t)
	steps := [][]string{
		{a.Name, "ip", "link", "add", "vA", "type", "veth", "peer", "name", "vB", "netns", b.Name},
		{a.Name, "ip", "addr", "add", "10.99.0.1/24", "dev", "vA"},
		{a.Name, "ip", "link", "set", "vA", "up"},
		{b.Name, "ip", "addr", "add", "10.99.0.2/24", "dev", "vB"},
		{b.Name, "ip", "link", "set", "vB", "up"},
	}
	for _, s := range steps {
		ns := a
		if s[0] == b.Name {
			ns = b
		}
		if err := ns.Run(s[1], s[2:]...); err != nil {
			t.Fatal(err)
		}
	}
	out, err := a.Output("cat", "/sys/class/net/vA/ifindex")
	if err != nil {
		t.Fatal(err)
	}
	return a, b, strings.TrimSpace(string(out))
}

// relVethRuleset logs UDP to 7400 arriving on any interface but lo.
const relVethRuleset = `
table inet rel {
	chain in {
		type filter hook input priority 0;
		iifname != "lo" udp dport 7400 log prefix "veth" group 5000 drop
	}
}`

// Issue 6.2, "the namespace loses the interface a packet names": packets
// written before the veth is deleted carry its name; packets the kernel
// logged on it but handed over after the deletion carry "#INDEX".
func TestReliabilityInterfaceDeleted(t *testing.T) {
	a, b, index := relVeth(t, relVethRuleset)
	file := filepath.Join(t.TempDir(), "deleted.pcapng")
	// qthresh 4 and a long batch timeout: four packets are handed over at
	// once, two stay in the kernel's batch until the unbind at exit.
	p := start(t, nil, "-g", "5000", "--netns", a.Name, "-w", file, "--qthresh", "4", "--batch-timeout", "60s")
	p.waitListening(t, 1)
	s := newUDPSender(t, b, "udp4")
	s.send(t, "10.99.0.1:7400", 0, 4, 40)
	time.Sleep(300 * time.Millisecond) // written with the name
	s.send(t, "10.99.0.1:7400", 4, 2, 40)
	time.Sleep(100 * time.Millisecond)
	if err := a.Run("ip", "link", "del", "vA"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	relStop(t, p, 20*time.Second)
	rows := tsharkFields(t, file, "frame.comment", "data.data")
	if len(rows) != 6 {
		t.Fatalf("%d packets in the file, want 6; stderr:\n%s", len(rows), p.stderr.String())
	}
	for i, r := range rows {
		want := "in=vA "
		if i >= 4 {
			want = "in=#" + index + " "
		}
		if !strings.Contains(r[0], want) || r[1] != hexOf(payload(i, 40)) {
			t.Errorf("packet %d: comment %q, payload %s; want %q and datagram %d", i, r[0], r[1], want, i)
		}
	}
}

// Issue 6.2, "an interface is renamed mid-capture": packets after the
// rename carry the new name.
func TestReliabilityInterfaceRenamed(t *testing.T) {
	a, b, _ := relVeth(t, relVethRuleset)
	file := filepath.Join(t.TempDir(), "renamed.pcapng")
	p := start(t, nil, "-g", "5000", "--netns", a.Name, "-w", file)
	p.waitListening(t, 1)
	s := newUDPSender(t, b, "udp4")
	s.send(t, "10.99.0.1:7400", 0, 3, 40)
	time.Sleep(300 * time.Millisecond)
	for _, args := range [][]string{{"link", "set", "vA", "down"}, {"link", "set", "vA", "name", "vZ"}, {"link", "set", "vZ", "up"}} {
		if err := a.Run("ip", args...); err != nil {
			t.Fatal(err)
		}
	}
	// Wait until the link is up again (its route comes back with it), and
	// give nflogcap's link watcher a moment for the notification.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		out, _ := a.Output("cat", "/sys/class/net/vZ/operstate")
		if strings.TrimSpace(string(out)) == "up" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("vZ not up after the rename: %q", out)
		}
	}
	time.Sleep(200 * time.Millisecond)
	s.send(t, "10.99.0.1:7400", 3, 3, 40)
	time.Sleep(300 * time.Millisecond)
	relStop(t, p, 20*time.Second)
	rows := tsharkFields(t, file, "frame.comment", "data.data")
	if len(rows) != 6 {
		t.Fatalf("%d packets in the file, want 6; stderr:\n%s", len(rows), p.stderr.String())
	}
	for i, r := range rows {
		want := "in=vA "
		if i >= 3 {
			want = "in=vZ "
		}
		if !strings.Contains(r[0], want) || r[1] != hexOf(payload(i, 40)) {
			t.Errorf("packet %d: comment %q, payload %s; want %q and datagram %d", i, r[0], r[1], want, i)
		}
	}
}
