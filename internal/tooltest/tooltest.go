// Package tooltest runs Wireshark's command-line tools (tshark, capinfos)
// from tests, as a user reads our files: with a timeout, failing the test on
// a non-zero exit or on anything unexpected on standard error.
package tooltest

import (
	"bytes"
	"context"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Timeout bounds every run.
const Timeout = 60 * time.Second

// RootWarning matches the only line the tools print on stderr when reading
// a file that is all right, as root. Anything else ("appears to be damaged
// or corrupt" above all) is a finding.
var RootWarning = regexp.MustCompile(`^Running as user "[^"]*" and group "[^"]*"\. This could be dangerous\.$`)

// CheckStderr fails the test if stderr holds a line harmless does not match.
func CheckStderr(t testing.TB, what string, stderr []byte, harmless *regexp.Regexp) {
	t.Helper()
	for _, line := range strings.Split(string(stderr), "\n") {
		// Only leading blanks go: tshark's closing "tshark: " line keeps its
		// trailing space, which harmless patterns may match on.
		if line = strings.TrimLeft(line, " \t"); line != "" && !harmless.MatchString(line) {
			t.Errorf("%s: stderr: %s", what, stderr)
			return
		}
	}
}

// Run runs name with args and returns its standard output; the test fails
// on a non-zero exit, a timeout, or a stderr line harmless does not match.
func Run(t testing.TB, harmless *regexp.Regexp, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v (context: %v)\n%s", name, strings.Join(args, " "), err, ctx.Err(), stderr.Bytes())
	}
	CheckStderr(t, name+" "+strings.Join(args, " "), stderr.Bytes(), harmless)
	return stdout.String()
}
