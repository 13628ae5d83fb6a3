package e2e_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nflogcap/nflogcap/pcapng"
)

// rotTmpfs mounts a tmpfs of the given size (mount -o size=) on a new
// directory and unmounts it when the test ends (after the processes the
// test started are gone: cleanups run last-registered first).
func rotTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tmpfs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs on %s: %v: %s", dir, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// rotDiskFullRE matches the error that ends a capture on a full disk.
var rotDiskFullRE = regexp.MustCompile(`^nflogcap: rotate: write (/\S+): .*no space left on device.*$`)

// Disk full without a ring: nflogcap stops by itself with a one-line error
// naming the file, exits non-zero without a stack trace; every file left is
// a pcapng file tshark reads (the failed one cut at a block boundary), and
// nothing written before the error is lost: the files fill the disk up to
// a few records, and their sequence numbers have no gap up to the end of
// the first cut file. Files finished before the disk filled are in the
// manifest and verify.
func TestRotateDiskFull(t *testing.T) {
	ns := rotNS(t)
	dir := rotTmpfs(t, "4m")
	p := rotStart(t, ns, dir, "-C", "1MB")
	wait := rotFlood(t, ns, 20000, 0)
	code := p.wait(t, time.Minute)
	wait(true)
	stderr := p.stderr.String()
	rotNoPanic(t, stderr)
	if code == 0 {
		t.Fatalf("exit 0 after the disk filled up; stderr:\n%s", stderr)
	}
	// One error line ends the capture. Besides it, a manifest update that
	// found the disk full first is reported as deferred (the capture goes
	// on), and Close says so if the manifest could not be completed.
	var lines [][]string
	fullLines := 0
	for _, line := range strings.Split(stderr, "\n") {
		if !strings.Contains(line, "no space left on device") {
			continue
		}
		fullLines++
		if strings.HasSuffix(line, "the manifest is brought up to date when there is room") || strings.Contains(line, "the manifest lacks the last files") {
			continue
		}
		if m := rotDiskFullRE.FindStringSubmatch(line); m != nil {
			lines = append(lines, m)
		}
	}
	if len(lines) != 1 || fullLines > 3 {
		t.Fatalf("want one error line naming the file and saying the disk is full; stderr:\n%s", stderr)
	}
	t.Logf("exit %d: %s", code, lines[0][0])
	// It names the capture file the disk filled, or the manifest when its
	// update was the first write to find the disk full.
	named := filepath.Base(lines[0][1])
	if filepath.Dir(lines[0][1]) != dir || !rotNameRE.MatchString(named) && named != "MANIFEST.sha256" && named != "MANIFEST.jsonl" {
		t.Fatalf("the error names %s, not a capture file or manifest in %s", lines[0][1], dir)
	}

	names, parts := rotListDir(t, dir)
	if len(parts) > 0 {
		t.Errorf("the failed capture left %v", parts)
	}
	if len(names) < 3 {
		t.Fatalf("files %v: want finished files and the one the disk filled", names)
	}
	records := rotFileRecords(t, rotIndex(t, dir))
	listed := rotSumCheck(t, dir)
	var files []rotFile
	var size int64
	var unlisted []string
	firstCut := -1
	for i, name := range names {
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		size += int64(len(data))
		if len(data) < 4 || string(data[:4]) != "\x0a\x0d\x0d\x0a" {
			t.Fatalf("%s (%d bytes) is not a pcapng file", name, len(data))
		}
		if valid, err := pcapng.ValidPrefix(bytes.NewReader(data), int64(len(data))); err != nil || valid != int64(len(data)) {
			t.Errorf("%s: %d bytes, valid prefix %d (%v): not cut at a block boundary", name, len(data), valid, err)
		}
		files = append(files, rotFile{name: name, pkts: rotPackets(t, path)})
		// Files whole and recorded, then (from the first cut one, which the
		// disk filling up may have kept out of the manifest) cut files.
		r, ok := records[name]
		if firstCut < 0 && (!ok || r.Error != "") {
			firstCut = i
		}
		switch {
		case firstCut < 0:
			if !slices.Contains(listed, name) {
				unlisted = append(unlisted, name)
			}
		case ok && r.Error == "":
			t.Errorf("%s was finished whole after %s was cut", name, names[firstCut])
		case ok && (r.Bytes == nil || *r.Bytes != int64(len(data))):
			t.Errorf("%s: %d bytes, manifest says %v", name, len(data), r.Bytes)
		}
	}
	if firstCut < 1 {
		t.Fatalf("files %v: want whole files before the cut ones (first cut %d)", names, firstCut)
	}
	if i := slices.Index(names, named); i >= 0 && i < firstCut {
		t.Errorf("the error names %s, which is whole", named)
	}
	// Whole files are listed in MANIFEST.sha256, except perhaps the last
	// one: rewriting the list for it may be what found the disk full.
	if len(unlisted) > 0 && !slices.Equal(unlisted, names[firstCut-1:firstCut]) {
		t.Errorf("MANIFEST.sha256 does not list %v, finished before the disk filled", unlisted)
	}
	// Nothing written before the first cut is lost: one gapless sequence
	// over the whole files and the first cut one, whose records are exact.
	packets, drops := rotCheckSequence(t, files[:firstCut+1])
	if drops != 0 || packets == 0 {
		t.Errorf("%d packets with %d declared drops before the disk filled", packets, drops)
	}
	rotCheckSequenceIncreasing(t, files)
	// The exit statistics account for what the full disk cut: packets in
	// the files plus the packets cut from them are the packets captured.
	inFiles := 0
	for _, f := range files {
		inFiles += len(f.pkts)
	}
	m := regexp.MustCompile(`(?m)^(\d+) packets captured$`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no exit statistics:\n%s", stderr)
	}
	cut := "0"
	if c := regexp.MustCompile(`(?m)^(at least )?(\d+) of them \(.*\) cut from the end of a file by a write error: in no file$`).FindStringSubmatch(stderr); c != nil {
		if c[1] != "" {
			t.Errorf("the statistics could not count every packet cut: %q", c[0])
		}
		cut = c[2]
	}
	if atoi(t, m[1]) != inFiles+atoi(t, cut) {
		t.Errorf("%s packets captured, but %d in the files and %s cut from them", m[1], inFiles, cut)
	}
	// ... and what reached the disk stays there: the files fill it up to a
	// few records per cut file.
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * st.Bsize
	t.Logf("%d files, %d bytes, %d bytes free", len(names), size, free)
	if free > 128<<10 {
		t.Errorf("%d bytes free on the full filesystem (files hold %d): data already written was cut off", free, size)
	}
}

// rotCheckSequenceIncreasing checks that sequence numbers only grow over
// files in name order: nothing duplicated or reordered (gaps are allowed).
func rotCheckSequenceIncreasing(t *testing.T, files []rotFile) {
	t.Helper()
	var prev int64 = -1
	for _, f := range files {
		for i, p := range f.pkts {
			if int64(p.seq) <= prev {
				t.Fatalf("%s packet %d: sequence %d after %d", f.name, i+1, p.seq, prev)
			}
			prev = int64(p.seq)
		}
	}
}

// Disk full with a ring: -W 20 files of 1 MB do not fit in 8 MiB, so
// nflogcap deletes the oldest file to make room and goes on; after SIGINT
// it exits 0 and what remains verifies and accounts for every packet.
func TestRotateDiskFullRing(t *testing.T) {
	ns := rotNS(t)
	dir := rotTmpfs(t, "8m")
	p := rotStart(t, ns, dir, "-C", "1MB", "-W", "20")
	wait := rotFlood(t, ns, 20000, 0)
	wait(false)
	if code := p.stop(t, syscall.SIGINT); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, p.stderr.String())
	}
	stderr := p.stderr.String()
	rotNoPanic(t, stderr)
	captured, lost := rotExitStats(t, stderr)
	if logged := rotLogged(t, ns); captured+lost != logged {
		t.Errorf("captured %d + lost %d != %d logged by the kernel", captured, lost, logged)
	}
	files := rotCheckArchive(t, dir, rotArchiveCheck{isb: true, allAB: true})
	if len(files) < 3 || len(files) >= 20 {
		t.Errorf("%d files remain in 8 MiB with -W 20", len(files))
	}
	rotCheckSequence(t, files)
	noSpace := 0
	var total uint64
	for _, e := range rotIndex(t, dir) {
		if e.Type == "deleted" && e.Reason == "no space" {
			noSpace++
		}
		if e.Type == "file" && e.Packets != nil {
			total += *e.Packets
		}
	}
	if noSpace == 0 {
		t.Errorf("no file was deleted for space: the test did not fill the disk; stderr:\n%s", stderr)
	}
	if total != captured {
		t.Errorf("file records count %d packets, nflogcap captured %d", total, captured)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%q is not a number: %v", s, err)
	}
	return n
}
