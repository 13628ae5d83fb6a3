package pcapng

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nflogcap/nflogcap/internal/netns/nstest"
)

const (
	packetsBeforeLateInterface = 1000
	packetsAfterLateInterface  = 40 // half on each interface
)

// writeLateInterfaceStream writes 1,000 packets on one interface, flushes (so
// that a reader has them before it sees anything else), then adds a second
// interface and writes packets on both.
func writeLateInterfaceStream(w *Writer, pause time.Duration) error {
	if _, err := w.AddInterface(&Interface{LinkType: LinkTypeRaw, Name: "early", SnapLen: 65535}); err != nil {
		return err
	}
	data := ipv4UDP("10.0.0.1", "10.0.0.2", 51000, 52000, "payload")
	ts := goldenStart.UnixNano()
	for i := range packetsBeforeLateInterface {
		if err := w.WritePacket(&Packet{Timestamp: ts + int64(i)*1000, Data: data, Flags: FlagInbound,
			PacketID: uint64(i), HasPacketID: true}); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	time.Sleep(pause) // let a pipe reader get through the first packets
	id, err := w.AddInterface(&Interface{LinkType: LinkTypeLinuxSLL2, Name: "late", Description: "added after 1000 packets"})
	if err != nil {
		return err
	}
	hdr := sll2Header(0x0800, 7, 4, []byte{2, 0, 0, 0, 0, 1})
	for i := range packetsAfterLateInterface {
		p := &Packet{Interface: i % 2 * id, Timestamp: ts + int64(packetsBeforeLateInterface+i)*1000, Data: data}
		if p.Interface == id {
			p.LinkHeader, p.Flags, p.Comment = hdr, FlagOutbound, []byte("late packet")
		}
		if err := w.WritePacket(p); err != nil {
			return err
		}
	}
	w.AddDrops(id, 3)
	return w.Close()
}

// checkInterfaceCounts checks tshark's "interface_id|interface_name" lines.
func checkInterfaceCounts(t *testing.T, out string) {
	t.Helper()
	counts := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		counts[line]++
	}
	want := map[string]int{
		"0|early": packetsBeforeLateInterface + packetsAfterLateInterface/2,
		"1|late":  packetsAfterLateInterface / 2,
	}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("packets per interface in tshark: %v, want %v", counts, want)
	}
}

var interfaceFields = []string{"-T", "fields", "-E", "separator=|", "-e", "frame.interface_id", "-e", "frame.interface_name"}

func TestLateInterfaceFromFile(t *testing.T) {
	nstest.RequireTools(t, "tshark")
	path := filepath.Join(t.TempDir(), "late.pcapng")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := writeLateInterfaceStream(NewWriter(f, nil), 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	checkInterfaceCounts(t, runTool(t, "tshark", append([]string{"-r", path}, interfaceFields...)...))
}

// openFIFOForWriting opens the write end once a reader has opened the FIFO:
// O_NONBLOCK makes open fail with ENXIO instead of blocking while there is
// none, so a reader that never comes cannot hang the test.
func openFIFOForWriting(ctx context.Context, path string) (*os.File, error) {
	for {
		f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err == nil {
			return f, nil // writes still wait for the reader, in Go's poller
		}
		if !errors.Is(err, syscall.ENXIO) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("no reader opened %s: %w", path, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func TestLateInterfaceThroughFIFO(t *testing.T) {
	nstest.RequireTools(t, "tshark")
	for _, mode := range []string{"-r", "-i"} { // -i goes through dumpcap's pipe reader
		t.Run("tshark "+mode, func(t *testing.T) {
			fifo := filepath.Join(t.TempDir(), "capture.fifo")
			if err := unix.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
			defer cancel()
			var stdout, stderr bytes.Buffer
			cmd := exec.CommandContext(ctx, "tshark", append([]string{mode, fifo}, interfaceFields...)...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			f, err := openFIFOForWriting(ctx, fifo)
			if err != nil {
				cancel()
				cmd.Wait()
				t.Fatalf("%v; tshark: %s", err, stderr.Bytes())
			}
			// A small buffer: many Writes, each of whole blocks.
			werr := writeLateInterfaceStream(NewWriter(f, &WriterOptions{BufferSize: 4096}), 200*time.Millisecond)
			if err := f.Close(); err != nil && werr == nil {
				werr = err
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("tshark %s: %v (writer: %v)\n%s", mode, err, werr, stderr.Bytes())
			}
			if werr != nil {
				t.Fatal(werr)
			}
			checkStderr(t, "tshark "+mode, stderr.Bytes())
			checkInterfaceCounts(t, stdout.String())
		})
	}
}
