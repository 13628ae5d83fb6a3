//go:build linux

package directio

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// crashChildEnv names the file a re-executed test binary writes to until it is
// killed.
const crashChildEnv = "DIRECTIO_CRASH_CHILD_FILE"

// crashChild is the child side of TestSIGKILL: the same test binary, run
// again with crashChildEnv set, writes until it is killed.
func crashChild(path string) {
	w, err := Create(path, 0o600, &Options{BufferSize: 64 << 10, Buffers: 4, Direct: true})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	out := bufio.NewWriter(os.Stdout)
	var rec []byte
	lastFlush := time.Now()
	for seq := uint32(0); ; seq++ {
		rec = record(rec[:0], seq, recordLen(seq))
		if _, err := w.Write(rec); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		if time.Since(lastFlush) >= 100*time.Millisecond {
			if err := w.Flush(); err != nil {
				fmt.Println("error", err)
				os.Exit(1)
			}
			lastFlush = time.Now()
			fmt.Fprintf(out, "flushed %d\n", seq+1) // records 0..seq handed over
			out.Flush()
		}
		if seq%64 == 0 {
			time.Sleep(time.Millisecond) // a capture's pace, not a disk benchmark
		}
	}
}

// TestSIGKILL kills a writing process with SIGKILL and checks the file it
// leaves: records from the start, in order and intact, possibly followed by
// a torn tail, and including everything flushed more than a second before
// the kill.
func TestSIGKILL(t *testing.T) {
	if v := os.Getenv(crashChildEnv); v != "" {
		crashChild(v)
		return
	}
	path := filepath.Join(t.TempDir(), "crash")
	cmd := exec.Command(os.Args[0], "-test.run=^TestSIGKILL$", "-test.v=false")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	type report struct {
		records int
		at      time.Time
	}
	reports := make(chan report, 1000)
	go func() {
		defer close(reports)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var n int
			if _, err := fmt.Sscanf(sc.Text(), "flushed %d", &n); err == nil {
				reports <- report{n, time.Now()}
			} else {
				t.Errorf("child: %s", sc.Text())
			}
		}
	}()
	var seen []report
	start := time.Now()
	for time.Since(start) < 2500*time.Millisecond {
		select {
		case r, ok := <-reports:
			if !ok {
				t.Fatal("child exited early")
			}
			seen = append(seen, r)
		case <-time.After(50 * time.Millisecond):
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	cmd.Wait()

	// Everything flushed a second or more before the kill must be in the file.
	mustHave := 0
	for _, r := range seen {
		if killed.Sub(r.at) >= time.Second {
			mustHave = r.records
		}
	}
	if mustHave == 0 {
		t.Fatalf("no flush reported a second before the kill (%d reports)", len(seen))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n, valid, err := checkRecords(data, recordLen)
	if err != nil {
		t.Fatalf("file left by SIGKILL: %v", err)
	}
	if n < mustHave {
		t.Fatalf("file has %d complete records, but %d were flushed more than 1s before the kill", n, mustHave)
	}
	t.Logf("%d bytes: %d complete records (%d required), torn tail %s bytes", len(data), n, mustHave, strconv.Itoa(len(data)-valid))
}
