package capture

import (
	"io"
	"os"
	"time"

	"github.com/nflogcap/nflogcap/nflog"
	"github.com/nflogcap/nflogcap/pcapng"
	"github.com/nflogcap/nflogcap/rotate"
)

// Options configures a capture. The command line fills it in.
type Options struct {
	// Groups are the NFLOG groups to bind, each with Listener as template
	// (its Group field is ignored).
	Groups   []int
	Listener nflog.Config

	// LinkType is how packets are written: raw IP (default), NFLOG or SLL2.
	// Packets raw IP cannot carry fall back to SLL2.
	LinkType pcapng.LinkType
	// NoComments leaves the metadata comment out of each packet.
	NoComments bool
	// MaxInterfaces caps the interfaces per file (default DefaultMaxInterfaces).
	MaxInterfaces int

	// Write is the output: "" prints one line per packet to Stdout, "-"
	// streams pcapng to Stdout, a FIFO streams to it, anything else is a file
	// (or the base of rotating files, per Rotate).
	Write string
	// Rotate configures file output; Path, Hooks and Clock are filled in
	// by the capture. Without rotation settings, Single mode is used.
	Rotate rotate.Config
	// Live is a FIFO that gets a live pcapng stream in addition to Write.
	// The capture reconnects when its reader goes and comes back.
	Live string

	// Count stops after this many packets (0: no limit).
	Count uint64
	// Duration stops after this long (0: no limit).
	Duration time.Duration

	// Application names the writer in each file's section header.
	Application string

	// AfterBind runs once every group is bound and before any output is
	// opened: the place to drop privileges.
	AfterBind func() error

	Stdout *os.File  // default os.Stdout
	Stderr io.Writer // default os.Stderr; messages and statistics
	Quiet  bool      // fewer messages on Stderr
}
