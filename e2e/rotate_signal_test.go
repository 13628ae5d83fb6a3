package e2e_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rotWaitFor polls cond every 20 ms for up to 10 s.
func rotWaitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 10s: not %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rotPayloadNumbers returns the number each datagram of a file carries
// (payload(i, size) starts with i in 8 digits), read with gopacket.
func rotPayloadNumbers(t *testing.T, path string) []int {
	t.Helper()
	var nums []int
	for _, p := range readCapture(t, path) {
		if len(p.data) < 36 || p.data[0]>>4 != 4 {
			t.Fatalf("%s: packet of %d bytes is not IPv4/UDP", path, len(p.data))
		}
		var n int
		if _, err := fmt.Sscanf(string(p.data[28:36]), "%08d", &n); err != nil {
			t.Fatalf("%s: payload %q: %v", path, p.data[28:36], err)
		}
		nums = append(nums, n)
	}
	return nums
}

// SIGHUP starts a new file at once: the first is finished (in the manifest)
// while the capture runs, and the packets sent after it are in the second.
// The files are created with --file-mode.
func TestRotateSIGHUP(t *testing.T) {
	ns := rotNS(t)
	dir := t.TempDir()
	p := rotStart(t, ns, dir, "-C", "1GB", "--file-mode", "0640")
	s := newUDPSender(t, ns, "udp4")
	s.send(t, rotDst, 0, 100, 200)
	rotWaitCaptured(t, p, 100)
	p.cmd.Process.Signal(syscall.SIGHUP)
	rotWaitFor(t, "a file finished after SIGHUP", func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, "MANIFEST.sha256"))
		return strings.Count(string(b), "\n") == 1
	})
	s.send(t, rotDst, 100, 100, 200)
	rotWaitCaptured(t, p, 200)
	rotStop(t, p)

	files := rotCheckArchive(t, dir, rotArchiveCheck{mode: 0o640 &^ rotUmask(t), isb: true, allAB: true})
	if len(files) != 2 {
		t.Fatalf("%d files after one SIGHUP, want 2", len(files))
	}
	if packets, drops := rotCheckSequence(t, files); packets != 200 || drops != 0 {
		t.Errorf("%d packets, %d lost; want the 200 sent", packets, drops)
	}
	for i, f := range files {
		nums := rotPayloadNumbers(t, filepath.Join(dir, f.name))
		if len(nums) != 100 || nums[0] != 100*i || nums[99] != 100*i+99 {
			t.Errorf("%s holds datagrams %v, want %d..%d", f.name, nums, 100*i, 100*i+99)
		}
	}
}

// -G 1s rotates by time: sparse traffic over ~3 s fills several files,
// each valid, together holding every packet.
func TestRotateInterval(t *testing.T) {
	ns := rotNS(t)
	dir := t.TempDir()
	p := rotStart(t, ns, dir, "-G", "1s")
	s := newUDPSender(t, ns, "udp4")
	for i := range 30 {
		s.send(t, rotDst, i, 1, 200)
		time.Sleep(100 * time.Millisecond)
	}
	rotWaitCaptured(t, p, 30)
	rotStop(t, p)
	files := rotCheckArchive(t, dir, rotArchiveCheck{isb: true})
	if len(files) < 3 {
		t.Errorf("%d files over 3 s with -G 1s, want at least 3", len(files))
	}
	if packets, drops := rotCheckSequence(t, files); packets != 30 || drops != 0 {
		t.Errorf("%d packets, %d lost; want the 30 sent", packets, drops)
	}
	var nums []int
	for _, f := range files {
		if len(f.pkts) > 0 { // gopacket refuses a section without interfaces
			nums = append(nums, rotPayloadNumbers(t, filepath.Join(dir, f.name))...)
		}
	}
	for i, n := range nums {
		if n != i {
			t.Fatalf("datagram %d is number %d: missing or out of order across files", i, n)
		}
	}
}
