package rotate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// waitFor polls cond for up to 10 s (a hang, not a speed limit).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRingDeleteFails: a file the ring cannot delete (here a non-empty
// directory took its name, so unlink fails) stays in the ring and in
// MANIFEST.sha256, is reported once, and is deleted and recorded as
// deleted once that works again; the next oldest goes in its place
// meanwhile, so the ring stays bounded. Before, the ring forgot the file
// when the delete failed, and it stayed on disk and listed forever.
func TestRingDeleteFails(t *testing.T) {
	dir := t.TempDir()
	clock := newClock(t, "2026-12-03T18:00:00Z")
	log := &logger{}
	hooks := &fakeHooks{}
	cfg := testConfig(dir, clock, hooks, log)
	cfg.MaxFiles = 2
	r, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{fwName(1, "20261203T180000Z")}
	rotate := func() {
		t.Helper()
		clock.Advance(time.Second)
		if err := hooks.writePacket(r, uint64(len(names)), clock.Now()); err != nil {
			t.Fatal(err)
		}
		if err := r.Rotate(); err != nil {
			t.Fatal(err)
		}
		names = append(names, filepath.Base(strings.TrimSuffix(r.Stats().Current, partSuffix)))
	}
	recorded := func(name string) func() bool {
		return func() bool {
			if !exists(filepath.Join(dir, ManifestIndex)) {
				return false
			}
			_, ok := fileEntries(t, dir)[name]
			return ok
		}
	}
	deleted := func(name string) func() bool {
		return func() bool {
			return slices.ContainsFunc(readIndex(t, dir), func(e Entry) bool { return e.Type == RecordDeleted && e.Name == name })
		}
	}
	rotate()
	waitFor(t, "file 1 to be recorded", recorded(names[0]))
	// File 1 cannot be deleted.
	first := filepath.Join(dir, names[0])
	os.Remove(first)
	os.Mkdir(first, 0o700)
	os.WriteFile(filepath.Join(first, "x"), nil, 0o600)

	rotate() // ring: 1 (stuck), 2, 3 (current): 2 goes in 1's place
	waitFor(t, "file 2 to be deleted", deleted(names[1]))
	if !log.contains("delete oldest " + first) {
		t.Errorf("the failed delete is not reported:\n%s", log)
	}
	for _, e := range readIndex(t, dir) {
		if e.Type == RecordDeleted && e.Name == names[0] {
			t.Fatalf("file 1 is recorded as deleted while it is still there")
		}
	}
	if sums := loadSums(t, dir); !slices.Contains(sums, names[0]) {
		t.Errorf("MANIFEST.sha256 dropped file 1 while it is still there: %v", sums)
	}
	rotate() // still stuck: 3 goes, reported no more
	waitFor(t, "file 3 to be deleted", deleted(names[2]))
	if n := strings.Count(log.String(), "delete oldest "+first); n != 1 {
		t.Errorf("the failed delete is reported %d times", n)
	}

	// It can be deleted again: the next rotation does.
	os.RemoveAll(first)
	os.WriteFile(first, []byte("deletable"), 0o600)
	rotate()
	waitFor(t, "file 1 to be deleted", deleted(names[0]))
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	var gone []string
	for _, e := range readIndex(t, dir) {
		if e.Type == RecordDeleted {
			gone = append(gone, e.Name)
		}
	}
	if want := []string{names[1], names[2], names[0]}; !slices.Equal(gone, want) {
		t.Errorf("deletions recorded %v, want %v", gone, want)
	}
	for _, name := range names[:3] {
		if exists(filepath.Join(dir, name)) {
			t.Errorf("%s is still there", name)
		}
	}
	if got := sha256sumCheck(t, dir); !slices.Equal(got, names[3:]) {
		t.Errorf("sha256sum -c verifies %v, want %v", got, names[3:])
	}
}

// loadSums returns the names MANIFEST.sha256 lists.
func loadSums(t *testing.T, dir string) []string {
	t.Helper()
	sums, err := readSums(filepath.Join(dir, ManifestSums))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range sums {
		names = append(names, s.name)
	}
	return names
}

// TestIndexSyncFails: an index line whose fsync fails (ENOSPC from a
// filesystem that allocates late, EIO) is taken back, so that writing it
// again when there is room leaves exactly one line, with or without a ring
// deleting a file in between. Before, the line stayed and the retry added a
// duplicate.
func TestIndexSyncFails(t *testing.T) {
	for _, ring := range []bool{false, true} {
		t.Run(fmt.Sprintf("ring=%v", ring), func(t *testing.T) {
			dir := t.TempDir()
			fails := 1
			m := &manifest{dir: dir, mode: 0o600, syncFile: func(f *os.File) error {
				if fails > 0 {
					fails--
					return &os.PathError{Op: "sync", Path: f.Name(), Err: syscall.ENOSPC}
				}
				return f.Sync()
			}}
			freed := 0
			if ring {
				m.noSpace = func() (string, bool) { freed++; return "old.pcapng", true }
			}
			now := time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)
			err := m.add(finished{name: "a.pcapng", sha256: strings.Repeat("a", 64), bytes: 1}, now)
			if ring {
				if err != nil || freed != 1 {
					t.Fatalf("add with a ring: %v after freeing %d files", err, freed)
				}
			} else {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("add: %v, want ENOSPC", err)
				}
				if n := len(readIndexLines(t, dir)); n != 0 {
					t.Fatalf("the failed line stayed: %d lines", n)
				}
				if err := m.flush(now); err != nil {
					t.Fatal(err)
				}
			}
			var files []string
			for _, e := range readIndex(t, dir) {
				if e.Type == RecordFile {
					files = append(files, e.Name)
				}
			}
			if !slices.Equal(files, []string{"a.pcapng"}) {
				t.Errorf("index has file records %v, want one for a.pcapng", files)
			}
		})
	}
}

func readIndexLines(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, ManifestIndex))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}
