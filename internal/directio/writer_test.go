//go:build linux

package directio

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// directCapable reports whether dir is on a filesystem known to honour
// O_DIRECT, so that tests can insist Direct stayed on.
func directCapable(t *testing.T, dir string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	switch st.Type {
	case unix.EXT4_SUPER_MAGIC, unix.XFS_SUPER_MAGIC, unix.BTRFS_SUPER_MAGIC:
		return true
	}
	return false
}

// TestPatterns writes random records with random Flush and Sync calls and
// checks after every Sync and after Close that the file holds exactly what
// was written, no more, and that the hash saw each byte once.
func TestPatterns(t *testing.T) {
	modes := []struct {
		name   string
		direct bool
		pipe   bool // NewWriter on an open file
	}{
		{"direct", true, false},
		{"buffered", false, false},
		{"newwriter", false, true},
	}
	for _, m := range modes {
		for seed := uint64(1); seed <= 12; seed++ {
			t.Run(fmt.Sprintf("%s/seed%d", m.name, seed), func(t *testing.T) {
				r := rand.New(rand.NewPCG(seed, 7))
				dir := t.TempDir()
				path := filepath.Join(dir, "out")
				opts := &Options{
					BufferSize:  blockSize * (1 + r.IntN(4)),
					Buffers:     1 + r.IntN(4),
					Direct:      m.direct,
					SyncOnFlush: r.IntN(2) == 0,
					Hash:        sha256.New(),
				}
				var w *Writer
				var prefix []byte
				if m.pipe {
					f, err := os.Create(path)
					if err != nil {
						t.Fatal(err)
					}
					// Start at an offset to show the Writer respects it.
					prefix = []byte("existing header\n")
					f.Write(prefix)
					w = NewWriter(f, opts)
				} else {
					var err error
					if w, err = Create(path, 0o600, opts); err != nil {
						t.Fatal(err)
					}
				}
				var want []byte
				for i, size := range randomSizes(r, 300, opts.BufferSize) {
					want = record(want, uint32(i), size)
					if _, err := w.Write(want[len(want)-size:]); err != nil {
						t.Fatal(err)
					}
					switch r.IntN(12) {
					case 0, 1:
						if err := w.Flush(); err != nil {
							t.Fatal(err)
						}
					case 2:
						if err := w.Sync(); err != nil {
							t.Fatal(err)
						}
						checkFile(t, path, append(prefix[:len(prefix):len(prefix)], want...))
					}
				}
				if w.Size() != int64(len(want)) {
					t.Errorf("Size = %d, want %d", w.Size(), len(want))
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				if err := w.Close(); err != nil {
					t.Errorf("second Close: %v", err)
				}
				checkFile(t, path, append(prefix, want...))
				st := w.Stats()
				if st.Hashed != int64(len(want)) || st.Bytes != int64(len(want)) {
					t.Errorf("Stats: hashed %d, bytes %d; want %d", st.Hashed, st.Bytes, len(want))
				}
				if sum := sha256.Sum256(want); !bytes.Equal(opts.Hash.Sum(nil), sum[:]) {
					t.Error("hash differs from sha256 of the data")
				}
				if m.direct && directCapable(t, dir) && !st.Direct {
					t.Error("Stats().Direct = false on a filesystem that supports O_DIRECT")
				}
				if !m.direct && st.Direct {
					t.Error("Stats().Direct = true without Options.Direct")
				}
				if _, err := w.Write([]byte("x")); !errors.Is(err, ErrClosed) {
					t.Errorf("Write after Close: %v, want ErrClosed", err)
				}
			})
		}
	}
}

func checkFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d bytes, want %d", path, len(got), len(want))
	}
	if !bytes.Equal(got, want) {
		i := 0
		for got[i] == want[i] {
			i++
		}
		t.Fatalf("%s: content differs at byte %d", path, i)
	}
}

func TestCreateNeverOverwrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "exists")
	if err := os.WriteFile(path, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Create(path, 0o600, &Options{Direct: true})
	if !errors.Is(err, os.ErrExist) {
		t.Fatalf("Create on an existing file: %v, want ErrExist", err)
	}
	checkFile(t, path, []byte("keep"))
}

func TestBadBufferSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if _, err := Create(path, 0o600, &Options{BufferSize: 5000}); err == nil {
		t.Fatal("Create accepted a buffer size that is not a multiple of 4096")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("failed Create left %s behind", path)
	}
}

// TestEPIPE shows that a pipe whose reader has gone fails with an error that
// wraps EPIPE and names the pipe, on the Sync that follows the write.
func TestEPIPE(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	pr.Close()
	w := NewWriter(pw, &Options{BufferSize: blockSize, Buffers: 2})
	if _, err := w.Write(record(nil, 0, 100)); err != nil {
		t.Fatal(err)
	}
	err = w.Sync()
	if !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("Sync after reader closed: %v, want EPIPE", err)
	}
	if !bytes.Contains([]byte(err.Error()), []byte(pw.Name())) {
		t.Errorf("error %q does not name %s", err, pw.Name())
	}
	if _, err := w.Write([]byte("more")); !errors.Is(err, syscall.EPIPE) {
		t.Errorf("Write after EPIPE: %v, want the sticky EPIPE", err)
	}
	if err := w.Close(); !errors.Is(err, syscall.EPIPE) {
		t.Errorf("Close: %v, want EPIPE", err)
	}
}

// TestPipeContent streams through a pipe with per-batch flushes.
func TestPipeContent(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(pr)
		got <- b
	}()
	w := NewWriter(pw, &Options{BufferSize: 2 * blockSize, Buffers: 3})
	r := rand.New(rand.NewPCG(3, 3))
	var want []byte
	for i, size := range randomSizes(r, 500, 2*blockSize) {
		want = record(want, uint32(i), size)
		if _, err := w.Write(want[len(want)-size:]); err != nil {
			t.Fatal(err)
		}
		if i%7 == 0 {
			w.Flush()
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if b := <-got; !bytes.Equal(b, want) {
		t.Fatalf("pipe got %d bytes, want %d identical", len(b), len(want))
	}
}

// TestWriteAllocs checks the per-packet rule: Write allocates nothing.
func TestWriteAllocs(t *testing.T) {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	w := NewWriter(f, &Options{BufferSize: 64 << 10, Buffers: 4})
	defer w.Close()
	rec := record(nil, 1, 1400)
	allocs := testing.AllocsPerRun(10000, func() {
		if _, err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Write allocates %.2f times per call, want 0", allocs)
	}
}

// TestSyncOnFlush: with SyncOnFlush a flushed buffer is fdatasynced by the
// syncer goroutine, and with SyncBytes so is a stream of full buffers that is
// never flushed; without them, nothing is synced before Close.
func TestSyncOnFlush(t *testing.T) {
	for _, tc := range []struct {
		name      string
		sync      bool
		syncBytes int64
		flush     bool
		want      bool
	}{
		{"off, flushed", false, 0, true, false},
		{"on, flushed", true, 0, true, true},
		{"on, not flushed", true, 0, false, false},
		{"on with SyncBytes, not flushed", true, 1 << 16, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := Create(filepath.Join(t.TempDir(), "f"), 0o600, &Options{BufferSize: 1 << 16, SyncOnFlush: tc.sync, SyncBytes: tc.syncBytes})
			if err != nil {
				t.Fatal(err)
			}
			n := 5000
			if !tc.flush {
				n = 3 << 16 // three full buffers: nothing partial at Close
			}
			if _, err := w.Write(bytes.Repeat([]byte("x"), n)); err != nil {
				t.Fatal(err)
			}
			if tc.flush {
				if err := w.Flush(); err != nil {
					t.Fatal(err)
				}
			}
			// Close waits for the syncer, so what was asked for is done;
			// its own final sync is not counted.
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if got := w.Stats().Syncs; tc.want && got < 1 || !tc.want && got != 0 {
				t.Errorf("%d fdatasyncs, want them: %v", got, tc.want)
			}
		})
	}
}
