//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nflogcap/nflogcap/internal/netns"
)

// proc is a capture tool running inside a namespace. Its pid is that of
// `ip netns exec`, which execs the tool in place, so signals, /proc/PID and
// the rusage from wait4 all belong to the tool (plus the few milliseconds ip
// spent before the exec).
type proc struct {
	cmd     *exec.Cmd
	out     *lineWatcher
	done    chan struct{} // closed once the process has been waited for
	waitErr error         // valid after done
}

// startProc starts argv in ns. With cpu >= 0 the tool is confined to that
// CPU; with nice != 0 it runs at that nice value.
func startProc(ns *netns.NS, argv []string, ready *regexp.Regexp, cpu, nice int) (*proc, error) {
	cmd := ns.Command(argv[0], argv[1:]...)
	w := newLineWatcher(ready)
	cmd.Stdout, cmd.Stderr = w, w // one pipe, so lines keep their order
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:   true,            // Ctrl-C reaches the harness only; it stops the tool in order
		Pdeathsig: syscall.SIGKILL, // and if the harness dies, the tool does not outlive it
	}
	cmd.WaitDelay = 2 * time.Second // a forked helper holding the pipe must not hang Wait
	if err := startPlaced(cmd, cpu, nice); err != nil {
		return nil, fmt.Errorf("start %s: %w", strings.Join(argv, " "), err)
	}
	p := &proc{cmd: cmd, out: w, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// startPlaced starts cmd from a thread confined to cpu (when >= 0) and set to
// the nice value nice (when not 0). The child inherits the forking thread's
// affinity and nice value from its first instruction, so no thread of the tool
// ever runs unplaced (setting them after the start would race the tool's own
// thread creation).
func startPlaced(cmd *exec.Cmd, cpu, nice int) error {
	if cpu < 0 && nice == 0 {
		return cmd.Start()
	}
	runtime.LockOSThread()
	restore, err := placeThread(cpu, nice)
	if err != nil {
		// The thread may be half placed: leave it locked so the runtime
		// discards it when this goroutine ends.
		return err
	}
	startErr := cmd.Start()
	if err := restore(); err != nil {
		return errors.Join(startErr, err) // thread stays locked and is discarded
	}
	runtime.UnlockOSThread()
	return startErr
}

// placeThread pins the calling thread to cpu (when >= 0) and sets its nice
// value (when not 0); restore undoes both. Linux applies both per thread.
func placeThread(cpu, nice int) (restore func() error, err error) {
	var oldSet unix.CPUSet
	if err := unix.SchedGetaffinity(0, &oldSet); err != nil {
		return nil, fmt.Errorf("sched_getaffinity: %w", err)
	}
	// getpriority returns 20-nice to keep the result positive.
	prio, err := unix.Getpriority(unix.PRIO_PROCESS, 0)
	if err != nil {
		return nil, fmt.Errorf("getpriority: %w", err)
	}
	oldNice := 20 - prio
	if cpu >= 0 {
		var set unix.CPUSet
		set.Set(cpu)
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			return nil, fmt.Errorf("pin to CPU %d: %w", cpu, err)
		}
	}
	if nice != 0 {
		if err := unix.Setpriority(unix.PRIO_PROCESS, 0, nice); err != nil {
			return nil, fmt.Errorf("set nice %d: %w", nice, err)
		}
	}
	return func() error {
		if err := unix.SchedSetaffinity(0, &oldSet); err != nil {
			return fmt.Errorf("restore affinity: %w", err)
		}
		if err := unix.Setpriority(unix.PRIO_PROCESS, 0, oldNice); err != nil {
			return fmt.Errorf("restore nice: %w", err)
		}
		return nil
	}, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop ends the tool the way a user would, SIGINT, and escalates to SIGTERM
// and SIGKILL when it does not exit within timeout. It returns the signal
// that ended it.
func (p *proc) stop(timeout time.Duration) syscall.Signal {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGKILL} {
		if p.exited() {
			return sig
		}
		_ = p.cmd.Process.Signal(sig) // fails only if it has just exited
		select {
		case <-p.done:
			return sig
		case <-time.After(timeout):
		}
	}
	<-p.done
	return syscall.SIGKILL
}

// kill is the error-path cleanup: SIGKILL and reap, bounded.
func (p *proc) kill() {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
}

// cpu is the tool's CPU time from wait4, user+sys and the sys part alone
// (where reads, writes and copies into the page cache show): its own and
// that of any children it waited for. Valid after done.
func (p *proc) cpu() (total, sys time.Duration) {
	ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), time.Duration(ru.Stime.Nano())
}

// vmHWM is the peak resident set size of the process's address space, in bytes.
func vmHWM(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/%d/status: VmHWM: %w", pid, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no VmHWM", pid)
}

// cpuTicks is the tool's CPU time so far (user+sys, its own and reaped
// children's) in clock ticks, from /proc/PID/stat.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name may contain spaces and parentheses; fields resume after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 15 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	var sum int64
	for _, s := range f[11:15] { // utime, stime, cutime, cstime (fields 14-17)
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		sum += n
	}
	return sum, nil
}

// lineWatcher collects a tool's output and signals when a line matches ready.
type lineWatcher struct {
	mu      sync.Mutex
	buf     []byte
	partial []byte
	re      *regexp.Regexp
	ready   chan struct{}
	seen    bool
}

// maxOutput bounds what is kept of a chatty tool's output.
const maxOutput = 1 << 20

func newLineWatcher(re *regexp.Regexp) *lineWatcher {
	return &lineWatcher{re: re, ready: make(chan struct{})}
}

func (w *lineWatcher) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) < maxOutput {
		w.buf = append(w.buf, b[:min(len(b), maxOutput-len(w.buf))]...)
	}
	if w.seen {
		return len(b), nil
	}
	w.partial = append(w.partial, b...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		if w.re.Match(w.partial[:i]) {
			w.seen = true
			close(w.ready)
			w.partial = nil
			break
		}
		w.partial = w.partial[i+1:]
	}
	return len(b), nil
}

// output returns everything the tool printed so far.
func (w *lineWatcher) output() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return bytes.Clone(w.buf)
}

// tail returns the last lines of output, for error messages.
func (w *lineWatcher) tail() string {
	out := bytes.TrimSpace(w.output())
	lines := bytes.Split(out, []byte("\n"))
	if len(lines) > 8 {
		lines = lines[len(lines)-8:]
	}
	return string(bytes.Join(lines, []byte(" | ")))
}
