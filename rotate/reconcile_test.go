package rotate

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakeFile is a whole file of the fake format: header, packets first to
// first+n-1 (at one second each from t0), trailer.
func fakeFile(name string, first, n uint64) []byte {
	t0 := time.Date(2026, 12, 3, 17, 0, 0, 0, time.UTC)
	b := appendRecord(nil, 'H', 0, t0, []byte(name))
	for seq := first; seq < first+n; seq++ {
		b = appendRecord(b, 'P', seq, t0.Add(time.Duration(seq)*time.Second), packetPayload(seq))
	}
	return appendRecord(b, 'T', n, time.Time{}, nil)
}

// TestReconcileAfterCrash builds the directory a run killed at each bad
// moment leaves, and checks that the next Open brings directory and
// manifest together: unrecorded finished files are recorded (hashed as
// found, counted by the Scanner), a compression cut short is undone with
// the original kept, a file recorded in MANIFEST.jsonl but missing from
// MANIFEST.sha256 is listed without a second record, a listed file that is
// gone gets a "missing" record, and a torn last index line is cut. Then
// sha256sum -c passes, and a second Open changes nothing.
func TestReconcileAfterCrash(t *testing.T) {
	dir := t.TempDir()
	clock := newClock(t, "2026-12-03T18:00:00Z")
	// An earlier run finished and recorded files 1 and 2.
	r, err := Open(testConfig(dir, clock, &fakeHooks{}, &logger{}))
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	r.Rotate()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	path := func(name string) string { return filepath.Join(dir, name) }
	write := func(name string, data []byte) {
		t.Helper()
		if err := os.WriteFile(path(name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	compress := func(name, kind string) {
		t.Helper()
		if _, err := compressFile(context.Background(), path(name), kind, "", 0o600, dir); err != nil {
			t.Fatal(err)
		}
	}
	f3, f4, f5, f6, f7 := fwName(3, "20261203T180003Z"), fwName(4, "20261203T180004Z"), fwName(5, "20261203T180005Z"), fwName(6, "20261203T180006Z"), fwName(7, "20261203T180007Z")
	// Killed between the rename of file 3 and its record.
	d3 := fakeFile(f3, 100, 10)
	write(f3, d3)
	// Killed while compressing file 4: its .zst.part is half a stream.
	d4 := fakeFile(f4, 110, 11)
	write(f4, d4)
	write(f4+".zst.part", []byte("half a zstd stream"))
	// Killed after compressing file 5 but before removing the original.
	d5 := fakeFile(f5, 121, 12)
	write(f5, d5)
	compress(f5, Zstd)
	write(f5, d5)
	// Killed after compressing file 6 and removing the original, before
	// recording it.
	d6 := fakeFile(f6, 133, 13)
	write(f6, d6)
	compress(f6, Gzip)
	g6 := mustRead(t, path(f6+".gz"))
	// Killed between the index line of file 7 and the rewrite of the sums.
	d7 := fakeFile(f7, 146, 14)
	write(f7, d7)
	line, _ := json.Marshal(finished{name: f7, sha256: sha256Hex(d7), bytes: int64(len(d7))}.entry(clock.Now()))
	idx, err := os.OpenFile(path(ManifestIndex), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	idx.Write(append(line, '\n'))
	// Killed in the middle of appending the next line.
	idx.Write([]byte(`{"type":"file","name":"` + f3 + `","sha2`))
	idx.Close()
	// Killed between the ring's deletion of file 1 and its record.
	f1 := fwName(1, "20261203T180000Z")
	os.Remove(path(f1))

	log := &logger{}
	hooks := &scanHooks{fakeHooks: &fakeHooks{}}
	cfg := testConfig(dir, clock, nil, log)
	cfg.Hooks = hooks
	cfg.Compress = Zstd
	argsLog := filepath.Join(t.TempDir(), "args")
	cfg.PostRotate = []string{"sh", "-c", `echo "$1" >> "$0"`, argsLog}
	clock.Advance(10 * time.Second)
	if r, err = Open(cfg); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("log:\n%s", log)

	// The compressed copies beside their originals are gone; the
	// originals are untouched.
	for _, gone := range []string{f4 + ".zst.part", f5 + ".zst", f1} {
		if exists(path(gone)) {
			t.Errorf("%s is still there", gone)
		}
	}
	for name, want := range map[string][]byte{f3: d3, f4: d4, f5: d5, f6 + ".gz": g6, f7: d7} {
		if got := mustRead(t, path(name)); string(got) != string(want) {
			t.Errorf("%s changed", name)
		}
	}
	newFile := fwName(8, "20261203T180011Z") + ".zst"
	want := []string{fwName(2, "20261203T180001Z"), f3, f4, f5, f6 + ".gz", f7, newFile}
	if got := captureFiles(t, dir); !slices.Equal(got, want) {
		t.Fatalf("directory holds %v, want %v", got, want)
	}
	if got := sha256sumCheck(t, dir); !slices.Equal(got, want) {
		t.Errorf("sha256sum -c verifies %v, want %v", got, want)
	}

	// One file record per file; the reconciled ones say so and carry the
	// scanned counts.
	records := map[string][]Entry{}
	var missing []string
	for _, e := range readIndex(t, dir) { // fails on a torn line
		switch e.Type {
		case RecordFile:
			records[e.Name] = append(records[e.Name], e)
		case RecordDeleted:
			if e.Reason != "missing" {
				t.Errorf("deleted record %+v", e)
			}
			missing = append(missing, e.Name)
		}
	}
	if !slices.Equal(missing, []string{f1}) {
		t.Errorf("missing records for %v, want %s", missing, f1)
	}
	for name, rs := range records {
		if len(rs) != 1 {
			t.Errorf("%s has %d file records", name, len(rs))
		}
	}
	for _, c := range []struct {
		name       string
		data       []byte // as stored
		packets    uint64
		first      uint64
		compressed bool
	}{
		{f3, d3, 10, 100, false},
		{f4, d4, 11, 110, false},
		{f5, d5, 12, 121, false},
		{f6 + ".gz", g6, 13, 133, true},
	} {
		e := records[c.name][0]
		if !e.Reconciled || e.SHA256 != sha256Hex(c.data) || *e.Bytes != int64(len(c.data)) || *e.Compressed != c.compressed || *e.Repaired {
			t.Errorf("%s: record %+v", c.name, e)
		}
		if e.Packets == nil || *e.Packets != c.packets || *e.SeqFirst != c.first || *e.SeqLast != c.first+c.packets-1 {
			t.Errorf("%s: record counts %v packets from %v, want %d from %d", c.name, e.Packets, e.SeqFirst, c.packets, c.first)
		}
	}
	if e := records[f7][0]; e.Reconciled {
		t.Errorf("%s got a second record: %+v", f7, e)
	}
	if e := records[newFile][0]; e.Reconciled || !*e.Compressed {
		t.Errorf("this run's file: %+v", e)
	}
	// Reconciled files were neither compressed nor handed to the command;
	// this run's file was.
	if got := strings.Fields(string(mustRead(t, argsLog))); !slices.Equal(got, []string{path(newFile)}) {
		t.Errorf("post-rotate command got %v, want only %s", got, newFile)
	}
	for _, s := range []string{
		"removed " + path(f4+".zst.part"),
		"removed " + path(f5+".zst"),
		f3 + " was finished by an earlier run that was killed before recording it in the manifest; recorded it now, hashed as found; it is not compressed or handed to the post-rotate command",
		f7 + " is recorded in " + ManifestIndex + " but was missing from " + ManifestSums,
		f1 + " is listed in " + ManifestSums + " but is not in the directory",
		"cut a torn last line",
	} {
		if !log.contains(s) {
			t.Errorf("log lacks %q", s)
		}
	}

	// Reconciled: a second start records nothing new.
	lines := len(readIndex(t, dir))
	log2 := &logger{}
	cfg.Logf, cfg.PostRotate, cfg.Compress = log2.Logf, nil, ""
	clock.Advance(time.Second)
	if r, err = Open(cfg); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if got := len(readIndex(t, dir)); got != lines+1 {
		t.Errorf("second start: %d index lines, want %d and its own file's\n%s", got, lines, log2)
	}
	sha256sumCheck(t, dir)
}

// TestReconcileWithoutScanner: hooks that cannot read a file back leave the
// packet counts of a reconciled file unknown; hash and size are recorded.
// A ring counts the file and deletes it only once it is recorded.
func TestReconcileWithoutScanner(t *testing.T) {
	dir := t.TempDir()
	f1 := fwName(1, "20261203T170000Z")
	d1 := fakeFile(f1, 0, 5)
	os.WriteFile(filepath.Join(dir, f1), d1, 0o600)
	clock := newClock(t, "2026-12-03T18:00:00Z")
	hooks := &fakeHooks{}
	cfg := testConfig(dir, clock, hooks, &logger{})
	cfg.MaxFiles = 1
	r, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	// The reconciled file's record, then its deletion by the ring; this
	// run's file may be recorded before, between or after them.
	var ofF1 []Entry
	index := readIndex(t, dir)
	for _, e := range index {
		if e.Name == f1 {
			ofF1 = append(ofF1, e)
		}
	}
	if len(index) != 3 || len(ofF1) != 2 {
		t.Fatalf("index %+v, want the reconciled file, its deletion by the ring, this run's file", index)
	}
	e := ofF1[0]
	if e.Type != RecordFile || !e.Reconciled || e.SHA256 != sha256Hex(d1) || *e.Bytes != int64(len(d1)) || e.Packets != nil || e.SeqFirst != nil {
		t.Errorf("reconciled record %+v", e)
	}
	if d := ofF1[1]; d.Type != RecordDeleted || d.Reason != "ring" {
		t.Errorf("second record of %s: %+v, want the ring's deletion", f1, d)
	}
	if got := sha256sumCheck(t, dir); !slices.Equal(got, []string{fwName(2, "20261203T180000Z")}) {
		t.Errorf("sha256sum -c verifies %v", got)
	}
}
