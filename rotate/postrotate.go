package rotate

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// stderrTail is how much of a failed command's standard error is reported.
const stderrTail = 512

// postRotateSlow is when a post-rotate command that has not ended is
// reported: commands run one at a time, and the ring deletes no file whose
// command has not run, so a command that hangs holds the ring back.
const postRotateSlow = time.Minute

// runPostRotate runs argv with path appended, without a shell, and returns an
// error carrying the exit status and the end of standard error if it fails.
// Its standard output is discarded: the capture's may be a packet stream.
// If it runs longer than slow, logf says so, once.
func runPostRotate(ctx context.Context, argv []string, path string, slow time.Duration, logf func(string, ...any)) error {
	args := append(argv[1:len(argv):len(argv)], path)
	cmd := exec.CommandContext(ctx, argv[0], args...)
	var tail tailWriter
	cmd.Stderr = &tail
	// A group of its own keeps terminal signals meant for the capture away
	// from the command, and lets Close kill whatever it started too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second // do not wait on a pipe held by an orphan
	warn := time.AfterFunc(slow, func() {
		logf("rotate: post-rotate command %s %s still running after %v; files wait for their command before the ring may delete them", argv[0], path, slow)
	})
	defer warn.Stop()
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(string(tail.b))
		return fmt.Errorf("rotate: post-rotate command %s %s: %w; stderr: %q", argv[0], path, err, msg)
	}
	return nil
}

// tailWriter keeps the last stderrTail bytes written to it.
type tailWriter struct{ b []byte }

func (t *tailWriter) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > stderrTail {
		t.b = append(t.b[:0], t.b[len(t.b)-stderrTail:]...)
	}
	return len(p), nil
}
