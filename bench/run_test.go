//go:build linux

package main

import (
	"context"
	"io"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/nflogcap/nflogcap/internal/netns/nstest"
)

// runTool runs one tool through the harness on a small, moderate-rate load
// that any tool should capture completely, and checks the accounting.
func runTool(t *testing.T, name string, args ...string) result {
	t.Helper()
	dir := t.TempDir()
	o, err := parseOptions(append([]string{
		"-tools", name, "-count", "3000", "-rate", "30000", "-settle", "100ms",
		"-idle-max", "0", "-run-timeout", "60s", "-dir", dir,
	}, args...), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	bare := ""
	if name == "bare" {
		bare = filepath.Join(t.TempDir(), "bare")
		if out, err := exec.Command("go", "build", "-o", bare, "github.com/nflogcap/nflogcap/bench/bare").CombinedOutput(); err != nil {
			t.Fatalf("build bare: %v: %s", err, out)
		}
	}
	tools := makeTools(o, bare, "")
	if tools[0].skip != "" {
		t.Skip(tools[0].skip)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	r := runOne(ctx, o, tools[0], 64, false)
	if r.err != nil {
		t.Fatalf("run: %v (notes %q)", r.err, r.notes)
	}
	if r.send.Sent != 3000 || r.logged != 3000 {
		t.Errorf("sent %d, nft logged %d, want 3000", r.send.Sent, r.logged)
	}
	if r.captured != 3000 {
		t.Errorf("captured %d of 3000 (notes %q)", r.captured, r.notes)
	}
	if r.cpu <= 0 || r.maxRSS <= 0 {
		t.Errorf("cpu %v, peak RSS %d: not measured", r.cpu, r.maxRSS)
	}
	return r
}

func TestRunBare(t *testing.T) {
	nstest.Require(t)
	r := runTool(t, "bare", "-quiet", "500ms")
	if !r.fromTool || r.report.drops != 0 {
		t.Errorf("bare: fromTool %v, reported drops %d", r.fromTool, r.report.drops)
	}
}

// TestRunTcpdump covers the file path: a pcap file read back and every
// sequence number checked. The quiet window outlasts libpcap's 1 s kernel flush.
func TestRunTcpdump(t *testing.T) {
	nstest.Require(t, "tcpdump")
	r := runTool(t, "tcpdump")
	if r.written <= 0 || len(r.notes) != 0 {
		t.Errorf("written %d, notes %q", r.written, r.notes)
	}
}
