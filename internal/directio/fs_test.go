//go:build linux

package directio

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/nflogcap/nflogcap/internal/netns/nstest"
	"golang.org/x/sys/unix"
)

// mount mounts a filesystem of the given type on a fresh temporary directory
// and unmounts it when the test ends. Root only.
func mount(t *testing.T, fstype, data string) string {
	t.Helper()
	nstest.Require(t)
	dir := t.TempDir()
	if err := unix.Mount(fstype, dir, fstype, 0, data); err != nil {
		t.Fatalf("mount %s on %s: %v", fstype, dir, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// TestDirectFallback writes with Direct on a filesystem that refuses O_DIRECT.
// tmpfs accepts O_DIRECT since Linux 6.6, so ramfs stands in for "a
// filesystem without it"; tmpfs is checked too, for content only.
func TestDirectFallback(t *testing.T) {
	for _, fs := range []string{"ramfs", "tmpfs"} {
		t.Run(fs, func(t *testing.T) {
			dir := mount(t, fs, "")
			path := filepath.Join(dir, "out")
			w, err := Create(path, 0o600, &Options{BufferSize: blockSize, Buffers: 2, Direct: true})
			if err != nil {
				t.Fatalf("Create with Direct on %s: %v", fs, err)
			}
			if fs == "ramfs" && w.Stats().Direct {
				t.Fatal("ramfs refuses O_DIRECT, yet Stats().Direct = true")
			}
			r := rand.New(rand.NewPCG(5, 5))
			var want []byte
			for i, size := range randomSizes(r, 200, blockSize) {
				want = record(want, uint32(i), size)
				if _, err := w.Write(want[len(want)-size:]); err != nil {
					t.Fatal(err)
				}
				if i%9 == 0 {
					if err := w.Sync(); err != nil {
						t.Fatal(err)
					}
					checkFile(t, path, want)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			checkFile(t, path, want)
		})
	}
}

// TestNoSpace fills a tiny tmpfs: the error wraps ENOSPC and names the file,
// and after Close the file is a whole number of records, none missing before
// the cut.
func TestNoSpace(t *testing.T) {
	for _, direct := range []bool{true, false} {
		name := map[bool]string{true: "direct", false: "buffered"}[direct]
		t.Run(name, func(t *testing.T) {
			dir := mount(t, "tmpfs", "size=256k")
			path := filepath.Join(dir, "out")
			h := sha256.New()
			w, err := Create(path, 0o600, &Options{BufferSize: 4 * blockSize, Buffers: 2, Direct: direct, Hash: h})
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(9, 9))
			var want []byte
			var werr error
			for i := 0; werr == nil && i < 10000; i++ {
				size := recordHeader + r.IntN(3000)
				want = record(want, uint32(i), size)
				_, werr = w.Write(want[len(want)-size:])
				if werr == nil && i%10 == 0 {
					werr = w.Flush()
				}
			}
			if werr == nil {
				werr = w.Sync()
			}
			if !errors.Is(werr, syscall.ENOSPC) {
				t.Fatalf("writing 10000 records to a 256k tmpfs: %v, want ENOSPC", werr)
			}
			if !strings.Contains(werr.Error(), path) {
				t.Errorf("error %q does not name %s", werr, path)
			}
			if err := w.Close(); !errors.Is(err, syscall.ENOSPC) {
				t.Errorf("Close: %v, want the ENOSPC error", err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			n, valid, err := checkRecords(got, nil)
			if err != nil {
				t.Fatal(err)
			}
			if valid != len(got) {
				t.Fatalf("file is %d bytes but its records end at %d: not cut at a record boundary", len(got), valid)
			}
			if int64(len(got)) != w.Length() {
				t.Errorf("Length() = %d, file has %d", w.Length(), len(got))
			}
			if len(got) < 128<<10 {
				t.Errorf("only %d bytes kept of a 256k filesystem", len(got))
			}
			if !bytes.Equal(got, want[:len(got)]) {
				t.Fatal("kept bytes differ from what was written")
			}
			t.Logf("kept %d records, %d bytes", n, len(got))
		})
	}
}

// TestNoSpaceRetry shows OnNoSpace freeing room: the write is retried and
// nothing is lost.
func TestNoSpaceRetry(t *testing.T) {
	dir := mount(t, "tmpfs", "size=256k")
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 128<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	calls := 0
	path := filepath.Join(dir, "out")
	w, err := Create(path, 0o600, &Options{BufferSize: 4 * blockSize, Buffers: 2, Direct: true,
		OnNoSpace: func() bool {
			calls++
			return os.Remove(filler) == nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	for i := 0; len(want) < 180<<10; i++ {
		want = record(want, uint32(i), 1000)
		if _, err := w.Write(want[len(want)-1000:]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v (OnNoSpace called %d times)", err, calls)
	}
	if calls != 1 {
		t.Errorf("OnNoSpace called %d times, want 1", calls)
	}
	checkFile(t, path, want)
}
