package rotate

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// crashChildEnv names the directory a re-executed test binary captures into
// until it is killed.
const crashChildEnv = "ROTATE_CRASH_CHILD_DIR"

// crashChild is the child side of TestCrash: the same test binary, run
// again with crashChildEnv set, writes until it is killed.
func crashChild(dir string) {
	hooks := &fakeHooks{}
	r, err := Open(Config{
		Path: filepath.Join(dir, "fw.pcapng"), MaxBytes: 200 << 10, Manifest: true, Direct: true,
		FlushInterval: 100 * time.Millisecond, BufferSize: 64 << 10, Hooks: hooks,
	})
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println("started")
	lastTick := time.Now()
	for seq := uint64(0); ; seq++ {
		if err := hooks.writePacket(r, seq, time.Now()); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		if _, err := r.RotateIfDue(); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		if time.Since(lastTick) > 10*time.Millisecond {
			if err := r.Tick(); err != nil {
				fmt.Println(err)
				os.Exit(1)
			}
			lastTick = time.Now()
			hooks.mu.Lock()
			hooks.files = hooks.files[len(hooks.files)-1:] // bound memory
			hooks.mu.Unlock()
		}
		if seq%32 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
}

// TestCrash kills a capturing process with SIGKILL: every file the manifest
// lists verifies, every finished file is whole, the .part files have a valid
// prefix, and Recover makes them whole and verifiable.
func TestCrash(t *testing.T) {
	if v := os.Getenv(crashChildEnv); v != "" {
		crashChild(v)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrash$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	buf := make([]byte, 8)
	if n, _ := out.Read(buf); !strings.HasPrefix(string(buf[:n]), "started") {
		t.Fatalf("child: %q", buf[:n])
	}
	time.Sleep(1500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	listed := map[string]bool{}
	for _, name := range sha256sumCheck(t, dir) {
		listed[name] = true
	}
	var parts []string
	lastSeq := int64(-1)
	for _, name := range captureFiles(t, dir) {
		path := filepath.Join(dir, name)
		if strings.HasSuffix(name, ".part") {
			parts = append(parts, name)
			data := mustRead(t, path)
			recs, valid := parseRecords(data)
			if valid == 0 {
				// Created just before the kill, before its header was flushed.
				t.Logf("%s: no complete record yet (%d bytes)", name, len(data))
				continue
			}
			if recs[0].kind != 'H' {
				t.Fatalf("%s: valid prefix does not start with a header", name)
			}
			continue
		}
		pkts := checkWhole(t, path, mustRead(t, path))
		if !listed[name] {
			t.Logf("%s finished but not yet in the manifest when killed", name)
		}
		for _, p := range pkts {
			if int64(p.seq) != lastSeq+1 {
				t.Fatalf("%s: packet %d after %d", name, p.seq, lastSeq)
			}
			lastSeq = int64(p.seq)
		}
	}
	if len(parts) == 0 || len(listed) < 2 {
		t.Fatalf("after the kill: %d .part files, %d files in the manifest", len(parts), len(listed))
	}
	found, err := Recover(dir, "fw", validPrefix, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		if f.Removed && f.Valid == 0 {
			if exists(f.Path) || exists(f.Final) {
				t.Errorf("%s without a complete record was not removed", f.Path)
			}
			continue
		}
		if !f.Repaired {
			t.Errorf("not repaired: %+v", f)
			continue
		}
		recs, valid := parseRecords(mustRead(t, f.Final))
		if int64(valid) != f.Valid || recs[0].kind != 'H' {
			t.Errorf("%s after repair: valid prefix %d of %d", f.Final, valid, f.Valid)
		}
	}
	repaired := 0
	for _, f := range found {
		if f.Repaired {
			repaired++
		}
	}
	verified := sha256sumCheck(t, dir)
	if len(verified) != len(listed)+repaired {
		t.Errorf("manifest verifies %d files after repair, want %d", len(verified), len(listed)+repaired)
	}
	t.Logf("%d files in the manifest, %d repaired, %d removed, last whole packet %d", len(listed), repaired, len(found)-repaired, lastSeq)
}
