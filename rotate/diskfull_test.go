package rotate

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nflogcap/nflogcap/internal/netns/nstest"
	"golang.org/x/sys/unix"
)

// mountTmpfs mounts a tmpfs of the given size on a temporary directory and
// unmounts it when the test ends. Root only.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	nstest.Require(t)
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0700"); err != nil {
		t.Fatalf("mount tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// TestDiskFull fills a 1 MiB tmpfs without a ring: the error names the file
// and wraps ENOSPC, the file is closed at a record boundary under its final
// name, and nothing written before is lost.
func TestDiskFull(t *testing.T) {
	for _, direct := range []bool{true, false} {
		t.Run(map[bool]string{true: "direct", false: "buffered"}[direct], func(t *testing.T) {
			dir := mountTmpfs(t, "1m")
			clock := newClock(t, "2026-12-03T18:00:00Z")
			hooks := &fakeHooks{}
			cfg := testConfig(dir, clock, hooks, &logger{})
			cfg.Direct = direct
			cfg.MaxBytes = 300 << 10
			r, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			var werr error
			for seq := uint64(0); werr == nil && seq < 100000; seq++ {
				werr = hooks.writePacket(r, seq, clock.Now())
				if werr == nil {
					_, werr = r.RotateIfDue()
				}
				if werr == nil && seq%20 == 0 {
					clock.Advance(time.Second)
					werr = r.Tick()
				}
			}
			if !errors.Is(werr, syscall.ENOSPC) {
				t.Fatalf("filling 1 MiB: %v, want ENOSPC", werr)
			}
			var we *WriteError
			if !errors.As(werr, &we) {
				t.Fatalf("error %v is not a *WriteError", werr)
			}
			if !strings.Contains(werr.Error(), we.Path) || !strings.HasPrefix(filepath.Base(we.Path), "fw_0000") || strings.HasSuffix(we.Path, ".part") {
				t.Errorf("error %q does not name the final file", werr)
			}
			cerr := r.Close()
			if !errors.Is(cerr, syscall.ENOSPC) {
				t.Errorf("Close: %v, want the ENOSPC error again", cerr)
			}
			// The disk may stay too full for the manifest's last lines;
			// Close then says so, and what the manifest lists still verifies.
			behind := cerr != nil && strings.Contains(cerr.Error(), "the manifest lacks")
			names := captureFiles(t, dir)
			var packets uint64
			cut, named := false, false
			for _, name := range names {
				if strings.HasSuffix(name, ".part") {
					t.Fatalf("%s left as .part", name)
				}
				data := mustRead(t, filepath.Join(dir, name))
				recs, valid := parseRecords(data)
				if !cut && valid == len(data) && len(recs) >= 2 && recs[len(recs)-1].kind == 'T' {
					packets += uint64(len(checkWhole(t, name, data)))
					continue
				}
				// Cut by the error: a valid prefix of what was written,
				// header and packets, to its last byte. The file before the
				// current one is finished in the background, so the disk may
				// fill while its end is written, and the next one is cut too.
				cut = true
				named = named || name == filepath.Base(we.Path)
				seq, _ := strconv.Atoi(strings.Split(name, "_")[1])
				if valid != len(data) || len(recs) == 0 || recs[0].kind != 'H' || (name == filepath.Base(we.Path) && int64(valid) != we.Length) {
					t.Fatalf("%s: %d bytes, valid prefix %d, reported %d", name, len(data), valid, we.Length)
				}
				if want := hooks.files[seq-1][:len(data)]; string(data) != string(want) {
					t.Fatalf("%s is not a prefix of what was written", name)
				}
				packets += uint64(len(recs) - 1)
			}
			if packets == 0 || len(names) < 2 || !named {
				t.Fatalf("%d packets in %v; the error names %s", packets, names, we.Path)
			}
			e, listed := fileEntries(t, dir)[filepath.Base(we.Path)]
			if (listed || !behind) && (e.Error == "" || e.Packets != nil) {
				t.Errorf("manifest entry of the cut file: %+v (manifest behind: %v)", e, behind)
			}
			sha256sumCheck(t, dir)
		})
	}
}

// TestDiskFullRing: in ring mode a full disk deletes the oldest file and the
// capture goes on; every file left is whole and the manifest verifies.
func TestDiskFullRing(t *testing.T) {
	dir := mountTmpfs(t, "1m")
	clock := newClock(t, "2026-12-03T18:00:00Z")
	hooks := &fakeHooks{}
	log := &logger{}
	cfg := testConfig(dir, clock, hooks, log)
	cfg.Direct = true
	cfg.MaxBytes = 200 << 10
	cfg.MaxFiles = 20 // more than fit: the disk fills before the ring does
	r, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var written int
	for seq := uint64(0); written < 4<<20; seq++ {
		if err := hooks.writePacket(r, seq, clock.Now()); err != nil {
			t.Fatalf("after %d bytes: %v\n%s", written, err, log)
		}
		written += recordOverhead + len(packetPayload(seq))
		if _, err := r.RotateIfDue(); err != nil {
			t.Fatal(err)
		}
		if seq%50 == 0 {
			clock.Advance(time.Second)
			if err := r.Tick(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if !log.contains("no space") {
		t.Errorf("no deletion for room:\n%s", log)
	}
	names := captureFiles(t, dir)
	for _, name := range names {
		checkWhole(t, name, mustRead(t, filepath.Join(dir, name)))
	}
	if got := sha256sumCheck(t, dir); len(got) != len(names) {
		t.Errorf("manifest verifies %d files, directory has %d", len(got), len(names))
	}
	if _, err := os.Stat(filepath.Join(dir, names[len(names)-1])); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d bytes through a 1 MiB filesystem; %d files remain", written, len(names))
}

// fillDisk writes a file in dir until the filesystem is full and returns
// its path.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return path
		}
	}
}

// TestDiskFullWhileFinishing: the disk fills after a rotation, while the
// previous file's last buffer is still to be written and the next file
// already takes packets. The finishing file is cut back to its last
// complete record and the Rotator stops with a *WriteError naming it, as
// for the current file; the manifest record says how many bytes and
// packets the cut lost, what the file still holds, and Stats counts the
// lost packets, so that packets in files + packets cut = packets written:
// the gap in the sequence before the next file's packets is accounted for.
func TestDiskFullWhileFinishing(t *testing.T) {
	for _, scan := range []bool{true, false} {
		t.Run(map[bool]string{true: "scanner", false: "no-scanner"}[scan], func(t *testing.T) {
			dir := mountTmpfs(t, "1m")
			clock := newClock(t, "2026-12-03T18:00:00Z")
			fake := &fakeHooks{}
			cfg := testConfig(dir, clock, fake, &logger{})
			if scan {
				cfg.Hooks = &scanHooks{fakeHooks: fake}
			}
			cfg.BufferSize, cfg.Buffers = 64<<10, 2
			r, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			first := filepath.Join(dir, fwName(1, "20261203T180000Z"))
			seq := uint64(0)
			write := func(n int) {
				t.Helper()
				for range n {
					if err := fake.writePacket(r, seq, clock.Now()); err != nil {
						t.Fatal(err)
					}
					seq++
				}
			}
			// Some packets reach the disk (a flush), more wait in the
			// buffer; then the disk is full.
			write(40)
			clock.Advance(2 * time.Second)
			if err := r.Tick(); err != nil {
				t.Fatal(err)
			}
			flushed := int64(len(fake.files[0]))
			waitFor(t, "the flush", func() bool {
				fi, err := os.Stat(first + ".part")
				return err == nil && fi.Size() == flushed
			})
			write(60) // about 15 kB, in memory
			filler := fillDisk(t, dir)
			if err := r.Rotate(); err != nil {
				t.Fatalf("Rotate: %v (the previous file is finished in the background)", err)
			}
			// The next file takes packets (they stay in its buffer) until
			// the failure shows.
			write(50)
			var werr error
			waitFor(t, "the finishing file's error", func() bool {
				_, werr = r.RotateIfDue()
				return werr != nil
			})
			var we *WriteError
			if !errors.As(werr, &we) || we.Path != first || !errors.Is(werr, syscall.ENOSPC) || we.Cut <= 0 {
				t.Fatalf("error %v (%#v), want a *WriteError naming %s with ENOSPC and bytes cut", werr, we, first)
			}
			os.Remove(filler) // room for the rest, so the next file is finished whole
			cerr := r.Close()
			if !errors.Is(cerr, syscall.ENOSPC) || !strings.Contains(cerr.Error(), first) {
				t.Errorf("Close: %v, want the error naming %s", cerr, first)
			}
			// Packets in the files + packets cut = packets written.
			names := captureFiles(t, dir)
			if len(names) != 2 {
				t.Fatalf("files %v", names)
			}
			data1 := mustRead(t, first)
			recs, valid := parseRecords(data1)
			if valid != len(data1) || int64(valid) != we.Length || int64(len(fake.files[0])-valid) != we.Cut {
				t.Fatalf("%s: %d bytes, valid %d; error says %d kept, %d cut of %d", first, len(data1), valid, we.Length, we.Cut, len(fake.files[0]))
			}
			kept1 := uint64(len(recs) - 1)
			pkts2 := checkWhole(t, names[1], mustRead(t, filepath.Join(dir, names[1])))
			if kept1 >= 100 || len(pkts2) != 50 || pkts2[0].seq != 100 {
				t.Fatalf("file 1 kept %d of 100 packets, file 2 starts at %d", kept1, pkts2[0].seq)
			}
			e := fileEntries(t, dir)[filepath.Base(first)]
			if e.Error == "" || e.CutBytes == nil || *e.CutBytes != we.Cut {
				t.Errorf("record of the cut file: %+v, want its error and %d bytes cut", e, we.Cut)
			}
			st := r.Stats()
			if st.CutBytes != we.Cut {
				t.Errorf("Stats: %d bytes cut, want %d", st.CutBytes, we.Cut)
			}
			if !scan {
				if e.Packets != nil || e.CutPackets != nil || !st.CutUnknown {
					t.Errorf("without a Scanner: record %+v, stats %+v; want unknown counts", e, st)
				}
				return
			}
			if e.Packets == nil || *e.Packets != kept1 || e.CutPackets == nil || *e.CutPackets != 100-kept1 ||
				kept1 > 0 && *e.SeqLast != kept1-1 {
				t.Errorf("record of the cut file: %+v; it kept %d of 100 packets", e, kept1)
			}
			if st.CutUnknown || kept1+uint64(len(pkts2))+st.CutPackets != seq {
				t.Errorf("%d packets in files + %d cut (unknown: %v) != %d written", kept1+uint64(len(pkts2)), st.CutPackets, st.CutUnknown, seq)
			}
			t.Logf("file 1 kept %d packets (%d bytes), %d packets (%d bytes) cut; file 2 has %d", kept1, we.Length, st.CutPackets, we.Cut, len(pkts2))
			sha256sumCheck(t, dir)
		})
	}
}
