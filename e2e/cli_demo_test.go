package e2e_test

import (
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/nflogcap/nflogcap/internal/command"
	"github.com/nflogcap/nflogcap/internal/netns/nstest"
)

// cliDemoNamespaces lists the namespaces whose name starts with
// nflogcap-demo-.
func cliDemoNamespaces(t *testing.T) map[string]bool {
	t.Helper()
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns list: %v: %s", err, out)
	}
	names := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], "nflogcap-demo-") {
			names[f[0]] = true
		}
	}
	return names
}

// `nflogcap demo` runs on this machine: it captures its traffic, prints the
// packets with their interface names, and leaves no namespace or file
// behind.
func TestCLIDemo(t *testing.T) {
	nstest.Require(t)
	before := cliDemoNamespaces(t)
	code, stdout, stderr := liveRun(t, nil, "demo")
	if code != 0 {
		t.Fatalf("nflogcap demo: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	cliNoCrash(t, stderr)
	for iface, least := range map[string]int{"nflog:5000:dns-in": 3, "nflog:5000:dns-out": 3, "nflog:5000:ssh-drop": 1} {
		n := len(regexp.MustCompile(`(?m)^\s+\d\d:\d\d:\d\d\.\d{6}\s+`+regexp.QuoteMeta(iface)+`\s+\d+ bytes`).FindAllString(stdout, -1))
		if n < least {
			t.Errorf("demo prints %d packets on %s, want at least %d:\n%s", n, iface, least, stdout)
		}
	}
	if !strings.Contains(stdout, "0 packets lost\n") {
		t.Errorf("demo prints no statistics:\n%s", stdout)
	}
	m := regexp.MustCompile(`created network namespace (\S+)`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("demo does not name its namespace:\n%s", stdout)
	}
	after := cliDemoNamespaces(t)
	if after[m[1]] {
		t.Errorf("namespace %s is still there after the demo", m[1])
	}
	for name := range after {
		if !before[name] {
			// Not an error: another demo may run at the same time.
			t.Logf("namespace %s appeared during the demo and is still there", name)
		}
	}
	if f := regexp.MustCompile(`captured to (\S+):`).FindStringSubmatch(stdout); f == nil {
		t.Errorf("demo does not say where it captured to:\n%s", stdout)
	} else if _, err := os.Stat(f[1]); err == nil {
		t.Errorf("the demo's temporary capture %s is still there", f[1])
	}
}

// `nflogcap --version` prints the version.
func TestCLIVersion(t *testing.T) {
	code, stdout, stderr := liveRun(t, nil, "--version")
	if code != 0 || stderr != "" || !regexp.MustCompile(`^nflogcap v?\d+\.\d+\.\d+\S*\n$`).MatchString(stdout) {
		t.Errorf("--version: exit %d, stdout %q, stderr %q; want exit 0 and \"nflogcap X.Y.Z\"", code, stdout, stderr)
	}
}

// `nflogcap --help` lists every flag, with its short name and its
// environment variable, and the subcommands.
func TestCLIHelpListsFlags(t *testing.T) {
	code, stdout, stderr := liveRun(t, nil, "--help")
	if code != 0 || stderr != "" {
		t.Fatalf("--help: exit %d, stderr %q", code, stderr)
	}
	// The flags issue 7 names, with their short names.
	want := map[string]string{
		"group": "g", "write": "w", "snaplen": "s", "copy-mode": "", "linktype": "", "qthresh": "",
		"batch-timeout": "", "seq": "", "seq-global": "", "conntrack": "", "family": "", "rcvbuf": "",
		"netns": "", "file-size": "C", "rotate-interval": "G", "file-count": "W", "postrotate-command": "z",
		"compress": "", "count": "c", "duration": "", "quiet": "q", "version": "", "help": "h", "live": "",
	}
	// And every flag the command has, but hidden ones (developer tools).
	for _, f := range command.New("test", io.Discard, io.Discard).Flags {
		if v, ok := f.(interface{ IsVisible() bool }); ok && !v.IsVisible() {
			continue
		}
		names := f.Names()
		if _, ok := want[names[0]]; !ok {
			short := ""
			for _, n := range names[1:] {
				if len(n) == 1 {
					short = n
				}
			}
			want[names[0]] = short
		}
	}
	for name, short := range want {
		line := regexp.MustCompile(`(?m)^\s+--` + regexp.QuoteMeta(name) + `\b[^-].*$`).FindString(stdout)
		if line == "" {
			t.Errorf("--help does not list --%s", name)
			continue
		}
		if short != "" && !strings.Contains(line, " -"+short+" ") && !strings.Contains(line, ", -"+short) {
			t.Errorf("--help lists --%s without -%s: %q", name, short, line)
		}
		env := "$NFLOGCAP_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		if name != "help" && name != "version" && !strings.Contains(line, env) {
			t.Errorf("--help lists --%s without its environment variable %s: %q", name, env, line)
		}
	}
	for _, sub := range []string{"demo", "recover"} {
		if !regexp.MustCompile(`(?m)^\s+` + sub + `\s`).MatchString(stdout) {
			t.Errorf("--help does not list the %s subcommand", sub)
		}
	}
}
