package rotate

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var namePattern = regexp.MustCompile(`^fw_(\d{10})_(\d{8}T\d{6}Z)\.pcapng$`)

// fwName is the name of file seq of base "fw" started at stamp, as the
// package names files (written out here, not computed with fileName).
func fwName(seq int, stamp string) string { return fmt.Sprintf("fw_%010d_%s.pcapng", seq, stamp) }

// TestSizeRotation writes packets with a size limit and checks that every
// file stands alone, no packet is lost or duplicated at a rotation, files
// end at the first record boundary past the limit, and the manifest matches.
func TestSizeRotation(t *testing.T) {
	dir := t.TempDir()
	clock := newClock(t, "2026-12-03T18:14:09Z")
	hooks := &fakeHooks{}
	log := &logger{}
	cfg := testConfig(dir, clock, hooks, log)
	cfg.MaxBytes = 10000
	r, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const packets = 300
	rotations := 0
	for seq := uint64(0); seq < packets; seq++ {
		clock.Advance(time.Millisecond)
		if err := hooks.writePacket(r, seq, clock.Now()); err != nil {
			t.Fatal(err)
		}
		rotated, err := r.RotateIfDue()
		if err != nil {
			t.Fatal(err)
		}
		if rotated {
			rotations++
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	names := captureFiles(t, dir)
	if len(names) != rotations+1 || len(names) < 5 {
		t.Fatalf("%d files after %d rotations: %v", len(names), rotations, names)
	}
	index := fileEntries(t, dir)
	next := uint64(0)
	for i, name := range names {
		m := namePattern.FindStringSubmatch(name)
		if m == nil || m[1] != fmt.Sprintf("%010d", i+1) {
			t.Fatalf("file %d is named %q", i, name)
		}
		data := mustRead(t, filepath.Join(dir, name))
		if !bytes.Equal(data, hooks.files[i]) {
			t.Fatalf("%s differs from what was written", name)
		}
		pkts := checkWhole(t, name, data)
		for _, p := range pkts {
			if p.seq != next {
				t.Fatalf("%s: packet %d where %d was due: lost or duplicated", name, p.seq, next)
			}
			next++
		}
		trailer := recordOverhead
		if i < len(names)-1 && (len(data)-trailer < int(cfg.MaxBytes) || len(data)-trailer-len(pkts[len(pkts)-1].payload)-recordOverhead >= int(cfg.MaxBytes)) {
			t.Errorf("%s: %d bytes does not end at the first record past %d", name, len(data), cfg.MaxBytes)
		}
		e, ok := index[name]
		if !ok {
			t.Fatalf("%s not in %s", name, ManifestIndex)
		}
		if e.SHA256 != sha256Hex(data) || *e.Bytes != int64(len(data)) || *e.Packets != uint64(len(pkts)) ||
			*e.SeqFirst != pkts[0].seq || *e.SeqLast != pkts[len(pkts)-1].seq || *e.Compressed || *e.Repaired {
			t.Errorf("%s: manifest entry %+v does not match the file", name, e)
		}
		if e.First != pkts[0].t.UTC().Format(time.RFC3339Nano) || e.Last != pkts[len(pkts)-1].t.UTC().Format(time.RFC3339Nano) {
			t.Errorf("%s: first/last %s %s", name, e.First, e.Last)
		}
		if fi, _ := os.Stat(filepath.Join(dir, name)); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
	if next != packets {
		t.Fatalf("files hold %d packets, %d were written", next, packets)
	}
	if got := sha256sumCheck(t, dir); strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("sha256sum -c verified %v, want %v", got, names)
	}
}

// TestTimeRotation rotates by Interval from each file's start.
func TestTimeRotation(t *testing.T) {
	dir := t.TempDir()
	clock := newClock(t, "2026-12-03T10:17:30Z")
	hooks := &fakeHooks{}
	cfg := testConfig(dir, clock, hooks, &logger{})
	cfg.Interval = time.Minute
	r, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var rotatedAt []string
	for seq := uint64(0); seq < 40; seq++ {
		clock.Advance(10 * time.Second)
		rotated, err := r.RotateIfDue()
		if err != nil {
			t.Fatal(err)
		}
		if rotated {
			rotatedAt = append(rotatedAt, clock.Now().Format("15:04:05"))
		}
		if err := hooks.writePacket(r, seq, clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	want := []string{"10:18:30", "10:19:30", "10:20:30", "10:21:30", "10:22:30", "10:23:30"}
	if strings.Join(rotatedAt, " ") != strings.Join(want, " ") {
		t.Errorf("rotated at %v, want %v", rotatedAt, want)
	}
	names := captureFiles(t, dir)
	wantNames := []string{fwName(1, "20261203T101730Z"), fwName(2, "20261203T101830Z")}
	if len(names) != 7 || names[0] != wantNames[0] || names[1] != wantNames[1] {
		t.Errorf("files %v, want 7 starting with %v", names, wantNames)
	}
	for i, name := range names {
		want := 6 // one every 10 s for a minute
		if i == 0 {
			want = 5 // 10:17:40 to 10:18:20
		}
		if pkts := checkWhole(t, name, mustRead(t, filepath.Join(dir, name))); i < 6 && len(pkts) != want {
			t.Errorf("%s: %d packets, want %d", name, len(pkts), want)
		}
	}
}

// TestAlignedRotation: with Align, a file started at 10:17 with Interval 1h
// ends at 11:00, and the next at 12:00.
func TestAlignedRotation(t *testing.T) {
	dir := t.TempDir()
	clock := newClock(t, "2026-12-03T10:17:00Z")
	hooks := &fakeHooks{}
	cfg := testConfig(dir, clock, hooks, &logger{})
	cfg.Interval, cfg.Align = time.Hour, true
	r, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		at     string
		rotate bool
	}{
		{"2026-12-03T10:59:59.999999999Z", false},
		{"2026-12-03T11:00:00Z", true},
		{"2026-12-03T11:00:00.5Z", false},
		{"2026-12-03T11:59:59Z", false},
		{"2026-12-03T12:00:00.25Z", true},
	}
	for _, s := range steps {
		at, _ := time.Parse(time.RFC3339Nano, s.at)
		clock.mu.Lock()
		clock.t = at
		clock.mu.Unlock()
		rotated, err := r.RotateIfDue()
		if err != nil {
			t.Fatal(err)
		}
		if rotated != s.rotate {
			t.Errorf("at %s: rotated %v, want %v", s.at, rotated, s.rotate)
		}
	}
	r.Close()
	want := []string{
		fwName(1, "20261203T101700Z"),
		fwName(2, "20261203T110000Z"),
		fwName(3, "20261203T120000Z"),
	}
	if got := captureFiles(t, dir); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("files %v, want %v", got, want)
	}
}

// TestAlignToEpoch: aligned files start on whole multiples of the interval
// since the Unix epoch, UTC, whatever the interval and the start's time
// zone; for an interval dividing 24 h that is counted from midnight. The
// expected times were computed apart from the package (Python datetime).
func TestAlignToEpoch(t *testing.T) {
	ist := time.FixedZone("IST", 5*3600+1800)
	cases := []struct {
		start    string
		interval time.Duration
		want     string
	}{
		{"2026-12-03T10:17:00Z", time.Hour, "2026-12-03T11:00:00Z"},
		{"2026-12-03T11:00:00Z", time.Hour, "2026-12-03T12:00:00Z"}, // on a boundary: the next one
		{"2026-12-03T10:17:00Z", 15 * time.Minute, "2026-12-03T10:30:00Z"},
		{"2026-12-03T10:17:00Z", 7 * time.Hour, "2026-12-03T14:00:00Z"}, // Go's zero time gives 12:00
		{"2026-12-03T21:00:00Z", 7 * time.Hour, "2026-12-04T04:00:00Z"},
		{"2026-12-03T10:17:00Z", 90 * time.Minute, "2026-12-03T10:30:00Z"},
		{"2026-12-03T10:17:00Z", 48 * time.Hour, "2026-12-05T00:00:00Z"},
		{"2026-12-03T10:17:00Z", 7 * time.Minute, "2026-12-03T10:23:00Z"},
		{"1969-12-31T22:30:00Z", 7 * time.Hour, "1970-01-01T00:00:00Z"},
	}
	for _, c := range cases {
		start, _ := time.Parse(time.RFC3339, c.start)
		want, _ := time.Parse(time.RFC3339, c.want)
		for _, s := range []time.Time{start, start.In(ist)} {
			if got := nextDeadline(s, c.interval, true); !got.Equal(want) {
				t.Errorf("aligned %v from %v: next start %v, want %v", c.interval, s, got.UTC(), want)
			}
		}
		if got := nextDeadline(start, c.interval, false); !got.Equal(start.Add(c.interval)) {
			t.Errorf("unaligned %v from %v: %v", c.interval, start, got)
		}
	}

	// The Rotator follows it: -G 7h --align from 10:15.
	dir := t.TempDir()
	clock := newClock(t, "2026-12-03T10:15:00Z")
	cfg := testConfig(dir, clock, &fakeHooks{}, &logger{})
	cfg.Interval, cfg.Align = 7*time.Hour, true
	r, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var rotatedAt []string
	for range 24 * 4 { // a day in 15-minute steps
		clock.Advance(15 * time.Minute)
		rotated, err := r.RotateIfDue()
		if err != nil {
			t.Fatal(err)
		}
		if rotated {
			rotatedAt = append(rotatedAt, clock.Now().UTC().Format("02T15:04"))
		}
	}
	r.Close()
	if want := []string{"03T14:00", "03T21:00", "04T04:00"}; !slices.Equal(rotatedAt, want) {
		t.Errorf("rotated at %v, want %v", rotatedAt, want)
	}
}

// TestRing keeps the newest files, counting those of an earlier run, and
// keeps MANIFEST.sha256 verifiable while MANIFEST.jsonl logs deletions.
func TestRing(t *testing.T) {
	dir := t.TempDir()
	clock := newClock(t, "2026-12-03T18:00:00Z")
	log := &logger{}
	// An earlier run left two files and a manifest listing them.
	first := testConfig(dir, clock, &fakeHooks{}, log)
	r, err := Open(first)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	r.Rotate()
	r.Close()
	// Someone else's file with another base stays untouched.
	other := filepath.Join(dir, "other_00001_20261203T180000Z.pcapng")
	os.WriteFile(other, []byte("x"), 0o600)

	hooks := &fakeHooks{}
	cfg := testConfig(dir, clock, hooks, log)
	cfg.MaxFiles = 3
	if r, err = Open(cfg); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 9; i++ {
		clock.Advance(time.Minute)
		if err := hooks.writePacket(r, uint64(i), clock.Now()); err != nil {
			t.Fatal(err)
		}
		if err := r.Rotate(); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	got := captureFiles(t, dir)
	want := []string{fwName(10, "20261203T180701Z"), fwName(11, "20261203T180801Z"), fwName(12, "20261203T180901Z"), "other_00001_20261203T180000Z.pcapng"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("files %v, want %v", got, want)
	}
	if v := sha256sumCheck(t, dir); strings.Join(v, " ") != strings.Join(want[:3], " ") {
		t.Errorf("sha256sum -c verified %v, want %v", v, want[:3])
	}
	var files, deleted int
	for _, e := range readIndex(t, dir) {
		switch e.Type {
		case RecordFile:
			files++
		case RecordDeleted:
			deleted++
			if e.Reason != "ring" {
				t.Errorf("deleted %s for %q", e.Name, e.Reason)
			}
		}
	}
	if files != 12 || deleted != 9 {
		t.Errorf("index has %d file and %d deleted records, want 12 and 9", files, deleted)
	}
	if !log.contains("deleted " + filepath.Join(dir, fwName(1, "20261203T180000Z"))) {
		t.Errorf("no log of the deletion of the earlier run's file:\n%s", log)
	}
}

// TestSequenceContinuesAndNoOverwrite: numbering continues after the highest
// sequence in the directory (leftover .part files and five-digit names of
// earlier versions included), and a taken name is skipped, never
// overwritten.
func TestSequenceContinuesAndNoOverwrite(t *testing.T) {
	dir := t.TempDir()
	clock := newClock(t, "2026-12-03T18:14:09Z")
	existing := map[string]string{
		"fw_00007_20261201T000000Z.pcapng":      "seven, named by an earlier version",
		"fw_00041_20261202T000000Z.pcapng.zst":  "forty-one",
		"fw_00042_20261202T010000Z.pcapng.part": "torn",
		"fw_99_20261202T010000Z.pcapng":         "too few digits: not ours",
		"fw_00050_notatime.pcapng":              "not ours",
	}
	for name, content := range existing {
		os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600)
	}
	log := &logger{}
	hooks := &fakeHooks{}
	r, err := Open(testConfig(dir, clock, hooks, log))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Stats().Current; filepath.Base(got) != fwName(43, "20261203T181409Z")+".part" {
		t.Errorf("first file %s, want sequence 43", got)
	}
	if !log.contains("fw_00042_20261202T010000Z.pcapng.part was left by an earlier run") {
		t.Errorf("leftover .part not reported:\n%s", log)
	}
	// Someone takes the next two names before the rotation.
	taken := []string{fwName(44, "20261203T181409Z"), fwName(45, "20261203T181409Z") + ".gz"}
	for _, name := range taken {
		os.WriteFile(filepath.Join(dir, name), []byte("taken"), 0o600)
	}
	if err := r.Rotate(); err != nil {
		t.Fatal(err)
	}
	if got := r.Stats().Current; filepath.Base(got) != fwName(46, "20261203T181409Z")+".part" {
		t.Errorf("after taken names, current is %s, want sequence 46", got)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	for name, content := range existing {
		if got := string(mustRead(t, filepath.Join(dir, name))); got != content {
			t.Errorf("%s was changed to %q", name, got)
		}
	}
	for _, name := range taken {
		if got := string(mustRead(t, filepath.Join(dir, name))); got != "taken" {
			t.Errorf("%s was overwritten", name)
		}
	}
	// New names sort in sequence order, which is time order.
	var ours []string
	for _, n := range captureFiles(t, dir) {
		if namePattern.MatchString(n) {
			ours = append(ours, n)
		}
	}
	wantOrder := []string{fwName(43, "20261203T181409Z"), fwName(44, "20261203T181409Z"), fwName(46, "20261203T181409Z")}
	if strings.Join(ours, " ") != strings.Join(wantOrder, " ") {
		t.Errorf("sorted names %v, want %v", ours, wantOrder)
	}
}

// TestNamesSortPastFiveDigits: names sort in time order past sequence
// 99999 (where five-digit names stopped doing so), the sequence continues
// after a five-digit name, and names are parsed back.
func TestNamesSortPastFiveDigits(t *testing.T) {
	start := time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)
	seqs := []int{1, 9999, 99999, 100000, 123456789, 9999999999}
	var names []string
	for i, seq := range seqs {
		name := fileName("fw", seq, start.Add(time.Duration(i)*time.Second), ".pcapng")
		names = append(names, name)
		p, ok := parseName(name, "fw")
		if !ok || p.seq != seq || p.rest != ".pcapng" || p.part || p.compr != "" {
			t.Errorf("parseName(%q) = %+v, %v; want sequence %d", name, p, ok, seq)
		}
	}
	if names[3] != "fw_0000100000_20261203T180003Z.pcapng" {
		t.Errorf("sequence 100000 is named %s", names[3])
	}
	if !slices.IsSorted(names) {
		t.Errorf("names do not sort in sequence order: %v", names)
	}
	for name, want := range map[string]int{
		"fw_99999_20261203T180000Z.pcapng":           99999, // an earlier version's
		"fw_000000100000_20261203T180000Z.pcapng.gz": 100000,
		"fw_9999_20261203T180000Z.pcapng":            -1, // too few digits
		"fw_0000000000000000001_20261203T180000Z.x":  -1, // too many
	} {
		p, ok := parseName(name, "fw")
		if (want < 0) == ok || ok && p.seq != want {
			t.Errorf("parseName(%q) = %+v, %v; want sequence %d", name, p, ok, want)
		}
	}

	// A directory whose last file, named by an earlier version, is 99999.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "fw_99999_20261203T170000Z.pcapng"), []byte("old"), 0o600)
	clock := newClock(t, "2026-12-03T18:00:00Z")
	cfg := testConfig(dir, clock, &fakeHooks{}, &logger{})
	cfg.Manifest = false
	r, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		clock.Advance(time.Second)
		if err := r.Rotate(); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	var ours []string
	for _, n := range captureFiles(t, dir) {
		if namePattern.MatchString(n) {
			ours = append(ours, n)
		}
	}
	want := []string{fwName(100000, "20261203T180000Z"), fwName(100001, "20261203T180001Z"), fwName(100002, "20261203T180002Z")}
	if !slices.Equal(ours, want) {
		t.Errorf("after fw_99999: files %v, want %v", ours, want)
	}
}

// TestSingle writes exactly Path and never replaces a file unless asked.
func TestSingle(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.pcapng")
	os.WriteFile(path, []byte("precious"), 0o644)
	hooks := &fakeHooks{}
	cfg := Config{Path: path, Single: true, Hooks: hooks, BufferSize: 16 << 10}
	if _, err := Open(cfg); !errors.Is(err, os.ErrExist) {
		t.Fatalf("Open over an existing file: %v, want ErrExist", err)
	}
	if string(mustRead(t, path)) != "precious" {
		t.Fatal("existing file changed")
	}
	cfg.Overwrite = true
	r, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint64(0); seq < 100; seq++ {
		hooks.writePacket(r, seq, time.Unix(int64(seq), 0))
		if rotated, err := r.RotateIfDue(); rotated || err != nil {
			t.Fatalf("RotateIfDue in single mode: %v, %v", rotated, err)
		}
	}
	if err := r.Rotate(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if got := captureFiles(t, dir); len(got) != 1 || got[0] != "out.pcapng" {
		t.Fatalf("directory holds %v, want only out.pcapng", got)
	}
	data := mustRead(t, path)
	if !bytes.Equal(data, hooks.files[0]) {
		t.Fatal("content differs from what was written")
	}
	if pkts := checkWhole(t, path, data); len(pkts) != 100 {
		t.Errorf("%d packets, want 100", len(pkts))
	}
	if _, err := Open(Config{Path: path, Single: true, MaxBytes: 10}); err == nil {
		t.Error("Single with MaxBytes accepted")
	}
}

// TestLock: two captures cannot share a directory.
func TestLock(t *testing.T) {
	dir := t.TempDir()
	r, err := Open(testConfig(dir, nil, nil, &logger{}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(testConfig(dir, nil, nil, &logger{}))
	if err == nil || !strings.Contains(err.Error(), "another capture") {
		t.Fatalf("second Open in the same directory: %v", err)
	}
	if _, err := Recover(dir, "fw", validPrefix, false); err == nil {
		t.Error("Recover ran while a capture holds the directory")
	}
	r.Close()
	r2, err := Open(testConfig(dir, nil, nil, &logger{}))
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	r2.Close()
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "fw.pcapng")
	bad := []Config{
		{},
		{Path: p, MaxBytes: -1},
		{Path: p, Align: true},
		{Path: p, Compress: "lz4"},
		{Path: p, Single: true, MaxFiles: 3},
		{Path: p, Overwrite: true},
		{Path: p, PostRotate: []string{""}},
		{Path: filepath.Join(dir, "missing", "fw.pcapng")},
	}
	for _, cfg := range bad {
		if r, err := Open(cfg); err == nil {
			r.Close()
			t.Errorf("Open(%+v) succeeded", cfg)
		} else if !strings.HasPrefix(err.Error(), "rotate: ") {
			t.Errorf("error %q lacks the package prefix", err)
		}
	}
}

// TestHookOpenFails: a header that cannot be written stops the Rotator and
// leaves the finished file whole.
func TestHookOpenFails(t *testing.T) {
	dir := t.TempDir()
	hooks := &fakeHooks{failAt: 2}
	r, err := Open(testConfig(dir, newClock(t, "2026-12-03T18:00:00Z"), hooks, &logger{}))
	if err != nil {
		t.Fatal(err)
	}
	hooks.writePacket(r, 0, time.Unix(1, 0))
	if err := r.Rotate(); err == nil || !strings.Contains(err.Error(), "hook refuses") {
		t.Fatalf("Rotate with a failing Open hook: %v", err)
	}
	if _, err := r.Write([]byte("x")); err == nil {
		t.Error("Write after a failed rotation succeeded")
	}
	if err := r.Close(); err == nil {
		t.Error("Close does not report the failure")
	}
	names := captureFiles(t, dir)
	if len(names) != 1 {
		t.Fatalf("files %v", names)
	}
	checkWhole(t, names[0], mustRead(t, filepath.Join(dir, names[0])))
}

// TestWriteAllocs: the per-packet calls allocate nothing.
func TestWriteAllocs(t *testing.T) {
	dir := t.TempDir()
	clock := newClock(t, "2026-12-03T18:00:00Z")
	cfg := testConfig(dir, clock, nil, &logger{})
	cfg.MaxBytes, cfg.Interval = 1<<40, time.Hour
	r, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rec := appendRecord(nil, 'P', 1, time.Unix(1, 0), packetPayload(1))
	allocs := testing.AllocsPerRun(5000, func() {
		r.Write(rec)
		r.RotateIfDue()
	})
	if allocs != 0 {
		t.Errorf("Write+RotateIfDue allocate %.2f times, want 0", allocs)
	}
}

// NextDue is the next flush, or the end of the file's time when that comes
// first; Tick flushes once it is reached.
func TestNextDue(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	dir := t.TempDir()
	r, err := Open(Config{Path: filepath.Join(dir, "fw.pcapng"), Interval: 10 * time.Second, FlushInterval: time.Second, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, want := r.NextDue(), now.Add(time.Second); !got.Equal(want) {
		t.Errorf("NextDue %v, want the flush at %v", got, want)
	}
	now = now.Add(time.Second)
	if err := r.Tick(); err != nil {
		t.Fatal(err)
	}
	if got, want := r.NextDue(), now.Add(time.Second); !got.Equal(want) {
		t.Errorf("after a flush at NextDue: %v, want %v", got, want)
	}
	now = now.Add(8500 * time.Millisecond) // 0.5 s before the file's time is up
	if err := r.Tick(); err != nil {
		t.Fatal(err)
	}
	if got, want := r.NextDue(), time.Date(2026, 12, 4, 10, 0, 10, 0, time.UTC); !got.Equal(want) {
		t.Errorf("NextDue %v, want the rotation at %v", got, want)
	}
	single, err := Open(Config{Path: filepath.Join(dir, "one.pcapng"), Single: true, FlushInterval: time.Second, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer single.Close()
	if got, want := single.NextDue(), now.Add(time.Second); !got.Equal(want) {
		t.Errorf("single file: NextDue %v, want %v", got, want)
	}
}
