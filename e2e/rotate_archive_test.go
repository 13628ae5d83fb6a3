package e2e_test

import (
	"slices"
	"strings"
	"testing"
)

// A flood logged under two prefixes, captured with -C 1MB: after SIGINT the
// files hold exactly what the kernel logged (nft counter) minus what
// nflogcap counted as lost, with one gapless sequence over all files in
// name order; every file stands alone (tshark, IDBs, ISBs); the manifest
// verifies and describes each file exactly; names and modes are right.
func TestRotateUnderLoad(t *testing.T) {
	ns := rotNS(t)
	dir := t.TempDir()
	p := rotStart(t, ns, dir, "-C", "1MB")
	wait := rotFlood(t, ns, 30000, 0)
	sent := wait(false)
	stderr := rotStop(t, p)
	logged := rotLogged(t, ns)
	captured, lost := rotExitStats(t, stderr)
	t.Logf("sent %d in %v, logged %d, captured %d, lost %d", sent.Sent, sent.Duration, logged, captured, lost)
	if logged == 0 || logged > uint64(sent.Sent) {
		t.Fatalf("the rule logged %d of %d datagrams sent", logged, sent.Sent)
	}
	if captured+lost != logged {
		t.Errorf("captured %d + lost %d != %d logged by the kernel", captured, lost, logged)
	}
	if lost != 0 {
		t.Logf("nflogcap lost %d packets (kernel drops); the counts must still add up", lost)
	}

	files := rotCheckArchive(t, dir, rotArchiveCheck{isb: true, allAB: true})
	// About 34 MB in 1 MB files.
	if len(files) < 20 {
		t.Errorf("%d files, want at least 20 for ~%d MB rotated at 1 MB", len(files), captured*rotSize/1e6)
	}
	packets, drops := rotCheckSequence(t, files)
	if packets != captured || drops != lost {
		t.Errorf("files hold %d packets with %d declared drops; nflogcap reported %d captured, %d lost", packets, drops, captured, lost)
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
