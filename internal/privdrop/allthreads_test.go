//go:build linux

package privdrop

import (
	"bytes"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// busyThreads starts n goroutines, each locked to a thread of its own and
// waiting (half in a channel receive, half in a blocking read(2)), so the
// process has threads in every state a capture's may be in. stop ends them.
func busyThreads(t *testing.T, n int) {
	t.Helper()
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	started := make(chan struct{}, n)
	for i := range n {
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			started <- struct{}{}
			if i%2 == 0 {
				<-release
				return
			}
			var b [1]byte
			unix.Read(fds[0], b[:]) // blocks in the kernel until stop writes
		}()
	}
	for range n {
		<-started
	}
	t.Cleanup(func() {
		close(release)
		unix.Write(fds[1], make([]byte, n))
		unix.Close(fds[1])
	})
}

// threadField returns field of /proc/self/task/*/status for every thread.
func threadField(t *testing.T, file, field string) map[string]string {
	t.Helper()
	paths, err := filepath.Glob("/proc/self/task/*/" + file)
	if err != nil || len(paths) == 0 {
		t.Skipf("no /proc/self/task: %v", err)
	}
	got := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		tid := filepath.Base(filepath.Dir(p))
		if field == "" {
			got[tid] = strings.TrimSpace(string(b))
			continue
		}
		for _, line := range bytes.Split(b, []byte("\n")) {
			if k, v, ok := bytes.Cut(line, []byte(":")); ok && string(k) == field {
				got[tid] = string(bytes.TrimSpace(v))
			}
		}
	}
	return got
}

// allThreads makes its call on every thread, also on threads blocked in a
// system call or blocking signals for os/signal, with or without cgo (the default build links it). A thread's
// name (PR_SET_NAME) is its own, so it shows which threads made the call.
func TestAllThreadsReachesEveryThread(t *testing.T) {
	busyThreads(t, 8)
	// os/signal then keeps a thread of its own that blocks other signals,
	// as in nflogcap.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGUSR2)
	defer signal.Stop(sigs)
	name := []byte("nflogcap-all\x00")
	if err := allThreads(unix.SYS_PRCTL, unix.PR_SET_NAME, uintptr(unsafe.Pointer(&name[0])), 0); err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(name)
	comms := threadField(t, "comm", "")
	if len(comms) < 9 {
		t.Fatalf("%d threads, want at least the 8 started and this one", len(comms))
	}
	for tid, comm := range comms {
		if comm != "nflogcap-all" {
			t.Errorf("thread %s is named %q: it did not make the call", tid, comm)
		}
	}
}

// NoNewPrivileges sets no_new_privs on every thread (it needs no privilege,
// and the test binary runs nothing that needs it off).
func TestNoNewPrivilegesEveryThread(t *testing.T) {
	busyThreads(t, 4)
	if err := NoNewPrivileges(); err != nil {
		t.Fatal(err)
	}
	for tid, v := range threadField(t, "status", "NoNewPrivs") {
		if v != "1" {
			t.Errorf("thread %s: NoNewPrivs %s, want 1", tid, v)
		}
	}
}
