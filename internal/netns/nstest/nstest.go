//go:build linux

// Package nstest gives root-only integration tests a namespace of their own,
// and decides whether a test that cannot get one skips or fails.
package nstest

import (
	"os"
	"os/exec"
	"testing"

	"github.com/nflogcap/nflogcap/internal/netns"
)

// RequireEnv is the environment variable that turns skips into failures. .ci/run
// sets it so that root-only tests cannot silently skip in CI.
const RequireEnv = "NFLOGCAP_REQUIRE_PRIVILEGED"

// Require skips the test, with the reason, unless it runs as root with the named
// tools on PATH (ip and nft are always required). With NFLOGCAP_REQUIRE_PRIVILEGED=1
// it fails instead of skipping.
func Require(t testing.TB, tools ...string) {
	t.Helper()
	stop := t.Skipf
	if os.Getenv(RequireEnv) == "1" {
		stop = t.Fatalf
	}
	if os.Geteuid() != 0 {
		stop("needs root (network namespaces, nft rules and NFLOG binding); run as root or set %s=1 to make this a failure", RequireEnv)
		return
	}
	for _, tool := range append([]string{"ip", "nft"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			stop("needs %s on PATH (Debian: apt-get install iproute2 nftables tshark)", tool)
			return
		}
	}
}

// RequireTools skips the test, with the reason, unless the named tools are on
// PATH; with NFLOGCAP_REQUIRE_PRIVILEGED=1 it fails instead. For tests that need
// a tool (tshark, capinfos) but not root.
func RequireTools(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			msg := "needs %s on PATH (Debian: apt-get install tshark nftables iproute2)"
			if os.Getenv(RequireEnv) == "1" {
				t.Fatalf(msg, tool)
			}
			t.Skipf(msg, tool)
		}
	}
}

// New returns a fresh namespace that is deleted when the test ends.
func New(t testing.TB, tools ...string) *netns.NS {
	t.Helper()
	Require(t, tools...)
	n, err := netns.Create("nflogcap-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return n
}
