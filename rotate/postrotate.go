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

// runPostRotate runs argv with path appended, without a shell, and returns an
// error carrying the exit status and the end of standard error if it fails.
// Its standard output is discarded: the capture's may be a packet stream.
func runPostRotate(ctx context.Context, argv []string, path string) error {
	args := append(argv[1:len(argv):len(argv)], path)
	cmd := exec.CommandContext(ctx, argv[0], args...)
	var tail tailWriter
	cmd.Stderr = &tail
	// A group of its own keeps terminal signals meant for the capture away
	// from the command, and lets Close kill whatever it started too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second // do not wait on a pipe held by an orphan
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
