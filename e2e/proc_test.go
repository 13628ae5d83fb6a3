package e2e_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// proc is a running nflogcap.
type proc struct {
	cmd    *exec.Cmd
	stderr lockedBuffer
	stdout lockedBuffer
	done   chan struct{}
	err    error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// start runs nflogcap with args; prefix (e.g. "ip netns exec NS") runs it
// through another command. It is killed when the test ends.
func start(t *testing.T, prefix []string, args ...string) *proc {
	t.Helper()
	argv := append(append(append([]string{}, prefix...), binary), args...)
	p := &proc{cmd: exec.Command(argv[0], argv[1:]...), done: make(chan struct{})}
	p.cmd.Stderr = &p.stderr
	p.cmd.Stdout = &p.stdout
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// waitListening waits for the "listening on" line(s): one per group.
func (p *proc) waitListening(t *testing.T, groups int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Count(p.stderr.String(), "listening on nflog group") >= groups {
			return
		}
		select {
		case <-p.done:
			t.Fatalf("nflogcap exited before listening: %v\nstderr:\n%s", p.err, p.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("nflogcap not listening after 10s; stderr:\n%s", p.stderr.String())
}

// stop sends sig and waits for the exit; it returns the exit status.
func (p *proc) stop(t *testing.T, sig syscall.Signal) int {
	t.Helper()
	p.cmd.Process.Signal(sig)
	return p.wait(t, 30*time.Second)
}

// wait waits for the process to exit by itself.
func (p *proc) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("nflogcap did not exit within %v; stderr:\n%s", timeout, p.stderr.String())
	}
	return p.cmd.ProcessState.ExitCode()
}

// run runs nflogcap to completion with a timeout and returns its exit status,
// standard output and standard error.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(), "NFLOGCAP_GROUP=") // no accidental group from the environment
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("nflogcap %v: timed out", args)
	}
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("nflogcap %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return code, stdout.String(), stderr.String()
}
