package e2e_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket/pcapgo"
)

// packet is one packet read back with gopacket's pcapng reader.
type packet struct {
	iface    string
	linkType int
	data     []byte
	origLen  int
	time     time.Time
}

// readCapture reads a pcapng file with gopacket's reader.
func readCapture(t *testing.T, file string) []packet {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var pkts []packet
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return pkts
		}
		if err != nil {
			t.Fatalf("%s: packet %d: %v", file, len(pkts)+1, err)
		}
		ifc, err := r.Interface(ci.InterfaceIndex)
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, packet{iface: ifc.Name, linkType: int(ifc.LinkType), data: bytes.Clone(data), origLen: ci.Length, time: ci.Timestamp})
	}
}

// tshark runs tshark with args and returns its standard output, failing the
// test on any error or message on standard error.
func tshark(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "tshark", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("tshark %v: %v\n%s", args, err, stderr.String())
	}
	if msg := tsharkErrors(stderr.String()); msg != "" {
		t.Fatalf("tshark %v complained: %s", args, msg)
	}
	return stdout.String()
}

// tsharkErrors drops tshark's warning about running as root.
func tsharkErrors(s string) string {
	var keep []string
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		if line != "" && !strings.Contains(line, "Running as user") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// tsharkFields returns one row per packet of the named fields.
func tsharkFields(t *testing.T, file string, fields ...string) [][]string {
	t.Helper()
	args := []string{"-r", file, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=f"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	var rows [][]string
	for _, line := range strings.Split(strings.TrimRight(tshark(t, args...), "\n"), "\n") {
		if line != "" {
			rows = append(rows, strings.Split(line, "\t"))
		}
	}
	return rows
}

// capinfos returns capinfos' report on file.
func capinfos(t *testing.T, file string) string {
	t.Helper()
	out, err := exec.Command("capinfos", file).CombinedOutput()
	if err != nil {
		t.Fatalf("capinfos %s: %v\n%s", file, err, out)
	}
	return string(out)
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }
