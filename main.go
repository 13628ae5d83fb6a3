// Command nflogcap captures packets that netfilter rules log to NFLOG groups
// and writes them as pcapng for Wireshark, tshark and tcpdump.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/nflogcap/nflogcap/internal/command"
)

// version is the release; the build may override it with
// -ldflags "-X main.version=...".
var version = "0.1.0"

func main() { os.Exit(run()) }

// run returns the exit status: 0 done, 1 failed, 2 bad command line.
func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A closed pipe must be an EPIPE error the capture can report and end
	// cleanly on, not a signal that kills the process mid-file.
	signal.Ignore(syscall.SIGPIPE)

	err := command.New(version, os.Stdout, os.Stderr).RunContext(ctx, os.Args)
	if err == nil {
		return 0
	}
	fmt.Fprintf(os.Stderr, "nflogcap: %v\n", err)
	if command.IsUsage(err) {
		return 2
	}
	return 1
}
