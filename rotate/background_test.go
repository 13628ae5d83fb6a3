package rotate

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/nflogcap/nflogcap/internal/netns/nstest"
)

func decompress(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader
	switch filepath.Ext(path) {
	case ".gz":
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	case ".zst":
		zr, err := zstd.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		r = zr
	default:
		t.Fatalf("%s is not compressed", path)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decompress %s: %v", path, err)
	}
	return b
}

// TestCompress compresses finished files in the background: the
// decompressed bytes equal what was written, the originals are gone, the
// manifest names the compressed files with their hashes, and the
// post-rotate command gets the compressed path.
func TestCompress(t *testing.T) {
	for _, kind := range []string{Gzip, Zstd} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			clock := newClock(t, "2026-12-03T18:00:00Z")
			hooks := &fakeHooks{}
			cfg := testConfig(dir, clock, hooks, &logger{})
			cfg.Compress = kind
			cfg.MaxBytes = 20000
			cfg.CompressBacklog = 1000 // this test wants every file compressed
			argsLog := filepath.Join(t.TempDir(), "args")
			cfg.PostRotate = []string{"sh", "-c", `echo "$1" >> "$0"`, argsLog}
			r, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			for seq := uint64(0); seq < 400; seq++ {
				clock.Advance(time.Millisecond)
				hooks.writePacket(r, seq, clock.Now())
				if _, err := r.RotateIfDue(); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			names := captureFiles(t, dir)
			if len(names) != len(hooks.files) || len(names) < 5 {
				t.Fatalf("%d files for %d written: %v", len(names), len(hooks.files), names)
			}
			index := fileEntries(t, dir)
			suffix := map[string]string{Gzip: ".gz", Zstd: ".zst"}[kind]
			var wantArgs []string
			for i, name := range names {
				if name != hooks.names[i]+suffix {
					t.Fatalf("file %d is %s, want %s%s", i, name, hooks.names[i], suffix)
				}
				path := filepath.Join(dir, name)
				if !bytes.Equal(decompress(t, path), hooks.files[i]) {
					t.Fatalf("%s decompresses to other bytes than were written", name)
				}
				e := index[name]
				if e.SHA256 != sha256Hex(mustRead(t, path)) || !*e.Compressed || *e.Bytes != int64(len(mustRead(t, path))) {
					t.Errorf("manifest entry for %s: %+v", name, e)
				}
				wantArgs = append(wantArgs, path)
			}
			sha256sumCheck(t, dir)
			if got := strings.Fields(string(mustRead(t, argsLog))); strings.Join(got, " ") != strings.Join(wantArgs, " ") {
				t.Errorf("post-rotate command got %v, want %v", got, wantArgs)
			}
		})
	}
}

// TestCompressBacklogFull: with no room in the backlog a file stays
// uncompressed, is recorded so, and Logf says why.
func TestCompressBacklogFull(t *testing.T) {
	dir := t.TempDir()
	log := &logger{}
	cfg := testConfig(dir, newClock(t, "2026-12-03T18:00:00Z"), &fakeHooks{}, log)
	cfg.Compress = Zstd
	cfg.CompressBacklog = 1
	gate := filepath.Join(t.TempDir(), "gate")
	// The command holds the worker until the test creates the gate file.
	cfg.PostRotate = []string{"sh", "-c", `while [ ! -e "$0" ]; do sleep 0.01; done`, gate}
	r, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		if err := r.Rotate(); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for !log.contains("compression backlog full") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	os.WriteFile(gate, nil, 0o600)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if !log.contains("compression backlog full") {
		t.Fatalf("no backlog report:\n%s", log)
	}
	var plain, zst int
	for name, e := range fileEntries(t, dir) {
		if *e.Compressed != strings.HasSuffix(name, ".zst") {
			t.Errorf("%s recorded with compressed=%v", name, *e.Compressed)
		}
		if *e.Compressed {
			zst++
		} else {
			plain++
		}
	}
	if plain == 0 || zst == 0 {
		t.Errorf("%d compressed and %d plain files; want both", zst, plain)
	}
	sha256sumCheck(t, dir)
}

// TestPostRotateFailure: a failing command is reported with its exit status
// and standard error, and capture goes on.
func TestPostRotateFailure(t *testing.T) {
	dir := t.TempDir()
	log := &logger{}
	cfg := testConfig(dir, newClock(t, "2026-12-03T18:00:00Z"), &fakeHooks{}, log)
	cfg.PostRotate = []string{"sh", "-c", `echo "cannot upload $0" >&2; exit 3`}
	r, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Rotate(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v (a failing command must not fail the capture)", err)
	}
	first := filepath.Join(dir, fwName(1, "20261203T180000Z"))
	want := "cannot upload " + first
	if !log.contains("exit status 3") || !log.contains(want) {
		t.Errorf("log lacks the exit status and %q:\n%s", want, log)
	}
}

// TestCloseTimeout: Close stops a command that does not end, and still
// records every file.
func TestCloseTimeout(t *testing.T) {
	dir := t.TempDir()
	log := &logger{}
	cfg := testConfig(dir, newClock(t, "2026-12-03T18:00:00Z"), &fakeHooks{}, log)
	pidFile := filepath.Join(t.TempDir(), "pid")
	cfg.PostRotate = []string{"sh", "-c", `sleep 600 & echo $! > ` + pidFile + `; wait`}
	cfg.CloseTimeout = 200 * time.Millisecond
	r, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.Rotate()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if !log.contains("stopping it") || !log.contains("signal: killed") {
		t.Errorf("log:\n%s", log)
	}
	if n := len(fileEntries(t, dir)); n != 2 {
		t.Errorf("%d files recorded, want 2", n)
	}
	// The command's own child was killed with it.
	pid := strings.TrimSpace(string(mustRead(t, pidFile)))
	for i := 0; ; i++ {
		stat, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil || strings.Contains(string(stat), ") Z ") {
			break
		}
		if i == 100 {
			exec.Command("kill", "-9", pid).Run()
			t.Fatalf("the command's child %s outlived Close", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCompressedReadableByWireshark compresses a real pcapng file the way
// the worker does and opens it with tshark.
func TestCompressedReadableByWireshark(t *testing.T) {
	nstest.RequireTools(t, "tshark")
	src, err := os.ReadFile("../testdata/rotate/udp1.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{Gzip, Zstd} {
		dir := t.TempDir()
		path := filepath.Join(dir, "one.pcapng")
		os.WriteFile(path, src, 0o600)
		c, err := compressFile(context.Background(), path, kind, sha256Hex(src), 0o600, dir)
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("tshark", "-r", c.path, "-T", "fields", "-e", "udp.dstport").Output()
		if err != nil {
			t.Fatalf("tshark -r %s: %v", c.path, err)
		}
		if strings.TrimSpace(string(out)) != "53" {
			t.Errorf("tshark -r %s printed %q, want the one packet's port 53", c.path, out)
		}
	}
}

// TestCompressDetectsChange: a file altered between writing and compression
// is not compressed.
func TestCompressDetectsChange(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.pcapng")
	os.WriteFile(path, []byte("altered"), 0o600)
	if _, err := compressFile(context.Background(), path, Zstd, sha256Hex([]byte("original")), 0o600, dir); err == nil || !strings.Contains(err.Error(), "changed") {
		t.Fatalf("compressFile on an altered file: %v", err)
	}
	if got := captureFiles(t, dir); len(got) != 1 || got[0] != "f.pcapng" {
		t.Errorf("directory holds %v after a refused compression", got)
	}
}

// A post-rotate command that runs long is reported while it runs, once.
func TestPostRotateSlowReported(t *testing.T) {
	var (
		mu   sync.Mutex
		msgs []string
	)
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		msgs = append(msgs, fmt.Sprintf(format, args...))
	}
	if err := runPostRotate(context.Background(), []string{"sleep"}, "0.3", 50*time.Millisecond, logf); err != nil {
		t.Fatal(err)
	}
	if err := runPostRotate(context.Background(), []string{"true"}, "x", time.Second, logf); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(msgs) != 1 || !strings.Contains(msgs[0], "post-rotate command sleep 0.3 still running after 50ms") {
		t.Errorf("messages %q, want one saying the slow command still runs", msgs)
	}
}
