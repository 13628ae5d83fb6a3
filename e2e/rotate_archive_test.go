package e2e_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// A flood logged under two prefixes, captured with -C 1MB, then a few
// datagrams sent slowly (each in a kernel batch of its own, so a loss at
// the end of the flood shows as a sequence gap before them). The
// accounting is exact: every datagram sent is either in a file or counted
// as lost, and the files' drop counts (epb_dropcount), the manifest's lost
// counts and the exit statistics agree on how many; the kernel's counter
// says it logged every datagram. The files hold one gapless sequence
// (gaps only where a drop count declares them) over all files in name
// order; each stands alone (tshark opens it by itself; IDBs, ISBs); the
// manifest verifies (sha256sum -c) and describes each file exactly; names
// and modes are right. The load is bounded: 30,000 datagrams, sent within
// rotFlood's two minutes, in the test's own namespace.
func TestRotateUnderLoad(t *testing.T) {
	ns := rotNS(t)
	dir := t.TempDir()
	p := rotStart(t, ns, dir, "-C", "1MB")
	flood := rotFlood(t, ns, 30000, 0)(false)
	slow := rotFlood(t, ns, 3, 10)(false)
	sent := uint64(flood.Sent + slow.Sent)
	time.Sleep(200 * time.Millisecond) // the last batch timeout
	stderr := rotStop(t, p)
	logged := rotLogged(t, ns)
	captured, lost := rotExitStats(t, stderr)
	t.Logf("sent %d (flood in %v), logged %d, captured %d, lost %d", sent, flood.Duration, logged, captured, lost)
	if flood.Sent != 30000 || slow.Sent != 3 {
		t.Fatalf("sent %d + %d datagrams, want 30000 + 3", flood.Sent, slow.Sent)
	}
	if logged != sent {
		t.Errorf("the rule logged %d of %d datagrams sent: lost before NFLOG, where nflogcap cannot count them", logged, sent)
	}
	if lostLines := regexp.MustCompile(`(?m)^\d+ packets lost.*$`).FindAllString(stderr, -1); len(lostLines) == 0 ||
		strings.Contains(lostLines[len(lostLines)-1], "unknown number") {
		t.Errorf("the exit statistics leave losses uncounted: %q", lostLines)
	}

	// Every file opens alone in tshark, sha256sum -c passes, and the
	// manifest describes each file exactly (rotCheckArchive).
	files := rotCheckArchive(t, dir, rotArchiveCheck{isb: true, allAB: true})
	// About 34 MB in 1 MB files.
	if len(files) < 20 {
		t.Errorf("%d files, want at least 20 for ~%d MB rotated at 1 MB", len(files), captured*rotSize/1e6)
	}
	packets, drops := rotCheckSequence(t, files)
	var manPackets, manLost uint64
	for _, f := range files {
		if f.record.Packets != nil && f.record.Lost != nil {
			manPackets += *f.record.Packets
			manLost += *f.record.Lost
		}
	}
	t.Logf("files: %d packets, %d declared drops; manifest: %d packets, %d lost", packets, drops, manPackets, manLost)
	if packets+drops != sent {
		t.Errorf("files hold %d packets and declare %d dropped: %d, not the %d sent", packets, drops, packets+drops, sent)
	}
	if manPackets != packets || manLost != drops {
		t.Errorf("manifest counts %d packets, %d lost; the files hold %d, declare %d", manPackets, manLost, packets, drops)
	}
	if captured != packets || lost != drops {
		t.Errorf("exit statistics: %d captured, %d lost; the files hold %d, declare %d", captured, lost, packets, drops)
	}
	for i, f := range files {
		if f.seq != i+1 {
			t.Errorf("file %d is %s: sequence numbers in names skip or repeat", i+1, f.name)
		}
	}
}

// Ring buffer -C 256kB -W 3 under a flood: exactly the 3 newest files
// remain, the manifest verifies, every other file has a "deleted" record,
// and the file records of all files together account for every packet.
func TestRotateRing(t *testing.T) {
	ns := rotNS(t)
	dir := t.TempDir()
	p := rotStart(t, ns, dir, "-C", "256kB", "-W", "3")
	wait := rotFlood(t, ns, 15000, 0)
	wait(false)
	stderr := rotStop(t, p)
	captured, lost := rotExitStats(t, stderr)
	if logged := rotLogged(t, ns); captured+lost != logged {
		t.Errorf("captured %d + lost %d != %d logged by the kernel", captured, lost, logged)
	}

	files := rotCheckArchive(t, dir, rotArchiveCheck{isb: true, allAB: true})
	if len(files) != 3 {
		t.Fatalf("%d files remain, want 3", len(files))
	}
	index := rotIndex(t, dir)
	records := rotFileRecords(t, index)
	deleted := map[string]bool{}
	var total uint64
	maxSeq := 0
	for _, e := range index {
		switch e.Type {
		case "deleted":
			if e.Reason != "ring" {
				t.Errorf("%s deleted for %q, want ring", e.Name, e.Reason)
			}
			if _, ok := records[e.Name]; !ok || deleted[e.Name] {
				t.Errorf("deletion of %s, which has no file record or was deleted before", e.Name)
			}
			deleted[e.Name] = true
		case "file":
			if e.Packets != nil {
				total += *e.Packets
			}
			if m := rotNameRE.FindStringSubmatch(e.Name); m != nil {
				maxSeq = max(maxSeq, rotAtoi(m[1]))
			}
		default:
			t.Errorf("record of unknown type %q", e.Type)
		}
	}
	if len(records) < 20 {
		t.Errorf("only %d files were written; the flood should fill ~60 files of 256 kB", len(records))
	}
	if len(deleted) != len(records)-3 {
		t.Errorf("%d files written, %d deletions recorded, 3 remain", len(records), len(deleted))
	}
	var remain []string
	for name := range records {
		if !deleted[name] {
			remain = append(remain, name)
		}
	}
	slices.Sort(remain)
	var names []string
	for _, f := range files {
		names = append(names, f.name)
	}
	if !slices.Equal(remain, names) {
		t.Errorf("manifest says %v remain, the directory holds %v", remain, names)
	}
	// The newest three: the highest sequence numbers, consecutive.
	if files[2].seq != maxSeq || files[1].seq != maxSeq-1 || files[0].seq != maxSeq-2 {
		t.Errorf("remaining files %v are not the 3 newest (newest sequence %d)", names, maxSeq)
	}
	if total != captured {
		t.Errorf("file records count %d packets, nflogcap captured %d", total, captured)
	}
	rotCheckSequence(t, files)
	if n := strings.Count(stderr, "(ring; keeping 3 files)"); n != len(deleted) {
		t.Errorf("stderr reports %d deletions, manifest %d", n, len(deleted))
	}
}

func rotAtoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}
