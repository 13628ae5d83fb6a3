package rotate

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestRecover reports a torn .part file, then repairs it: cut to its valid
// prefix, renamed, recorded as repaired in a manifest that still verifies.
// An interrupted compression output is removed.
func TestRecover(t *testing.T) {
	dir := t.TempDir()
	// A finished run leaves a manifest.
	r, err := Open(testConfig(dir, newClock(t, "2026-12-03T18:00:00Z"), &fakeHooks{}, &logger{}))
	if err != nil {
		t.Fatal(err)
	}
	r.Close()

	var whole []byte
	whole = appendRecord(whole, 'H', 2, time.Unix(0, 0), []byte(fwName(2, "20261203T180100Z")))
	for seq := uint64(0); seq < 20; seq++ {
		whole = appendRecord(whole, 'P', seq, time.Unix(int64(seq), 0), packetPayload(seq))
	}
	torn := append(bytes.Clone(whole), appendRecord(nil, 'P', 20, time.Unix(20, 0), packetPayload(20))[:37]...)
	part := filepath.Join(dir, fwName(2, "20261203T180100Z")+".part")
	os.WriteFile(part, torn, 0o600)
	zpart := filepath.Join(dir, fwName(1, "20261203T180000Z")+".zst.part")
	os.WriteFile(zpart, []byte("half a zstd stream"), 0o600)
	// Killed after compressing file 3, before removing the original.
	orig := filepath.Join(dir, fwName(3, "20261203T180200Z"))
	os.WriteFile(orig, whole, 0o600)
	if _, err := compressFile(context.Background(), orig, Gzip, "", 0o600, dir); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(orig, whole, 0o600)
	zdone := orig + ".gz"

	found, err := Recover(dir, "fw", validPrefix, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 3 {
		t.Fatalf("found %+v, want the .part, the .zst.part and the .gz beside its original", found)
	}
	for _, f := range found {
		if f.Path == part && (f.Size != int64(len(torn)) || f.Valid != int64(len(whole)) || f.Repaired) {
			t.Errorf("report %+v, want size %d valid %d", f, len(torn), len(whole))
		}
	}
	if !bytes.Equal(mustRead(t, part), torn) {
		t.Fatal("reporting changed the file")
	}

	found, err = Recover(dir, "fw", validPrefix, true)
	if err != nil {
		t.Fatal(err)
	}
	final := filepath.Join(dir, fwName(2, "20261203T180100Z"))
	for _, f := range found {
		switch f.Path {
		case part:
			if !f.Repaired || f.Final != final {
				t.Errorf("repair result %+v", f)
			}
		case zpart, zdone:
			if !f.Removed {
				t.Errorf("compression leftover not removed: %+v", f)
			}
		}
	}
	if !bytes.Equal(mustRead(t, orig), whole) || exists(zdone) {
		t.Errorf("the original of the interrupted compression is not kept, or its copy not removed")
	}
	if !bytes.Equal(mustRead(t, final), whole) {
		t.Fatal("repaired file is not the valid prefix")
	}
	if _, err := os.Stat(zpart); !os.IsNotExist(err) {
		t.Error("compression leftover still there")
	}
	e, ok := fileEntries(t, dir)[fwName(2, "20261203T180100Z")]
	if !ok || !*e.Repaired || e.SHA256 != sha256Hex(whole) || e.Packets != nil {
		t.Errorf("manifest entry for the repaired file: %+v", e)
	}
	if got := sha256sumCheck(t, dir); len(got) != 2 {
		t.Errorf("sha256sum -c verified %v, want the first file and the repaired one", got)
	}
	if found, err := Recover(dir, "fw", validPrefix, true); err != nil || len(found) != 0 {
		t.Errorf("second Recover: %+v, %v", found, err)
	}
}
