package e2e_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nflogcap/nflogcap/internal/netns/nstest"
)

// `nflogcap demo -w FILE` keeps its capture where asked: tshark reads it,
// with one interface per log prefix, and the host's own ruleset is the same
// before and after.
func TestCLIDemoKeepsFile(t *testing.T) {
	nstest.Require(t)
	hostRules := func() string {
		out, err := exec.Command("nft", "list", "ruleset").CombinedOutput()
		if err != nil {
			t.Fatalf("nft list ruleset: %v: %s", err, out)
		}
		return string(out)
	}
	before := hostRules()
	file := filepath.Join(t.TempDir(), "demo.pcapng")
	code, stdout, stderr := liveRun(t, nil, "demo", "-w", file)
	if code != 0 {
		t.Fatalf("nflogcap demo -w: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	cliNoCrash(t, stderr)
	if !strings.Contains(stdout, "tshark -r "+file) {
		t.Errorf("demo -w does not tell how to open %s:\n%s", file, stdout)
	}
	perIface := map[string]int{}
	for _, row := range tsharkFields(t, file, "frame.interface_name", "frame.comment") {
		perIface[row[0]]++
		if len(row) < 2 || !strings.HasPrefix(row[1], "hook=") {
			t.Errorf("packet on %s has no metadata comment: %q", row[0], row)
		}
	}
	for iface, least := range map[string]int{"nflog:5000:dns-in": 6, "nflog:5000:dns-out": 6, "nflog:5000:ssh-drop": 1} {
		if perIface[iface] < least {
			t.Errorf("tshark sees %d packets on %s, want at least %d (all: %v)", perIface[iface], iface, least, perIface)
		}
	}
	if after := hostRules(); after != before {
		t.Errorf("the host's ruleset changed during the demo:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// Without -w the demo's capture is temporary, and the demo says so instead
// of pointing at a file that is gone.
func TestCLIDemoTemporaryHint(t *testing.T) {
	nstest.Require(t)
	code, stdout, stderr := liveRun(t, nil, "demo")
	if code != 0 {
		t.Fatalf("nflogcap demo: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "That file was temporary") || !strings.Contains(stdout, "nflogcap demo -w demo.pcapng") {
		t.Errorf("demo without -w does not say its file was temporary:\n%s", stdout)
	}
}
