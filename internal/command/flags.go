package command

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/nflogcap/nflogcap/capture"
)

// Flag names. Short aliases follow tcpdump and dumpcap where they have one.
const (
	flagGroup        = "group"
	flagWrite        = "write"
	flagLive         = "live"
	flagSnaplen      = "snaplen"
	flagCopyMode     = "copy-mode"
	flagLinkType     = "linktype"
	flagQThresh      = "qthresh"
	flagBatchTimeout = "batch-timeout"
	flagSeq          = "seq"
	flagSeqGlobal    = "seq-global"
	flagConntrack    = "conntrack"
	flagFamily       = "family"
	flagRcvBuf       = "rcvbuf"
	flagRcvBufMax    = "rcvbuf-max"
	flagNetNS        = "netns"
	flagFileSize     = "file-size"
	flagInterval     = "rotate-interval"
	flagAlign        = "align"
	flagFileCount    = "file-count"
	flagPostRotate   = "postrotate-command"
	flagCompress     = "compress"
	flagManifest     = "manifest"
	flagCount        = "count"
	flagDuration     = "duration"
	flagQuiet        = "quiet"
	flagNoComments   = "no-comments"
	flagMaxIfaces    = "max-interfaces"
	flagUser         = "user"
	flagFileMode     = "file-mode"
	flagOverwrite    = "overwrite"
	flagDirectIO     = "direct-io"
	flagVersion      = "version"
	flagCPUProfile   = "cpuprofile"
)

// Defaults chosen from the benchmark (see README, "Performance").
const (
	defaultQThresh      = "1024"
	defaultBatchTimeout = "10ms"
	defaultRcvBuf       = "32MiB"
	defaultRcvBufMax    = "64MiB"
)

// shortName is a flag's one-letter alias, after tcpdump and dumpcap.
func shortName(name string) string {
	switch name {
	case flagGroup:
		return "g"
	case flagWrite:
		return "w"
	case flagSnaplen:
		return "s"
	case flagFileSize:
		return "C"
	case flagInterval:
		return "G"
	case flagFileCount:
		return "W"
	case flagPostRotate:
		return "z"
	case flagCount:
		return "c"
	case flagQuiet:
		return "q"
	case flagUser:
		return "Z"
	}
	return ""
}

// label names a flag in messages: "-C/--file-size", "--qthresh".
func label(name string) string {
	if s := shortName(name); s != "" {
		return "-" + s + "/--" + name
	}
	return "--" + name
}

// envName is the environment variable that can set a flag:
// --batch-timeout is NFLOGCAP_BATCH_TIMEOUT.
func envName(flag string) string {
	return "NFLOGCAP_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

func stringFlag(name, value, usage string) *cli.StringFlag {
	f := &cli.StringFlag{Name: name, Value: value, Usage: usage, EnvVars: []string{envName(name)}}
	if s := shortName(name); s != "" {
		f.Aliases = []string{s}
	}
	return f
}

func boolFlag(name string, value bool, usage string) *cli.BoolFlag {
	f := &cli.BoolFlag{Name: name, Value: value, Usage: usage, EnvVars: []string{envName(name)}}
	if s := shortName(name); s != "" {
		f.Aliases = []string{s}
	}
	return f
}

// withDefaultText makes help show text as f's default, for defaults that
// depend on other flags.
func withDefaultText(f *cli.BoolFlag, text string) *cli.BoolFlag {
	f.DefaultText = text
	return f
}

func captureFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: flagGroup, Aliases: []string{"g"}, EnvVars: []string{envName(flagGroup)},
			Usage: "NFLOG `GROUP` to capture, 1..65535; repeat or comma-separate for several groups in one capture"},
		stringFlag(flagWrite, "", "write pcapng to `FILE` (- for standard output, a FIFO for a live stream); without it, print one line per packet"),
		stringFlag(flagLive, "", "also stream live pcapng to `FIFO` (created if missing); the capture never waits for its reader"),
		stringFlag(flagSnaplen, "0", "copy at most `N` bytes of each packet, 0..65531 (0 = whole packet)"),
		stringFlag(flagCopyMode, "packet", "what the kernel copies: none, meta (metadata only) or packet"),
		stringFlag(flagLinkType, "raw", "link type of the pcapng interfaces: raw (IP), nflog (NFLOG TLVs, as dumpcap writes) or sll2 (Linux cooked v2); packets raw cannot carry use sll2"),
		stringFlag(flagQThresh, defaultQThresh, "packets the kernel batches per message, 1..1024"),
		stringFlag(flagBatchTimeout, defaultBatchTimeout, "longest time the kernel holds a partial batch (`DURATION`, 10ms steps; 0 = next timer tick)"),
		boolFlag(flagSeq, true, "number packets per group so every lost packet is counted (--seq=false to turn off)"),
		boolFlag(flagSeqGlobal, false, "also record the namespace-wide sequence number"),
		boolFlag(flagConntrack, false, "attach each packet's conntrack state (needs kernel support)"),
		stringFlag(flagFamily, "ipv4,ipv6", "families to PF_BIND: `LIST` of ipv4, ipv6, bridge, arp, or none"),
		stringFlag(flagRcvBuf, defaultRcvBuf, "socket receive buffer `SIZE` (e.g. 32MiB); given alone, it is fixed"),
		stringFlag(flagRcvBufMax, defaultRcvBufMax, "grow the receive buffer up to `SIZE` when the kernel drops packets (with -Z: set to SIZE at once, as it could not grow past net.core.rmem_max after -Z)"),
		stringFlag(flagNetNS, "", "capture in network namespace `NAME` (under /run/netns) or PATH"),
		stringFlag(flagFileSize, "", "rotate files at `SIZE` (e.g. 100MB, 1GiB)"),
		stringFlag(flagInterval, "", "rotate files every `DURATION` (e.g. 1h, 15m)"),
		boolFlag(flagAlign, false, "start rotated files on whole multiples of -G since the Unix epoch, UTC (1h: on the hour)"),
		stringFlag(flagFileCount, "", "ring buffer: keep the newest `N` files"),
		stringFlag(flagPostRotate, "", "run `COMMAND` (split on spaces, no shell) with each finished file's path appended"),
		stringFlag(flagCompress, "", "compress finished files in the background: gzip or zstd"),
		withDefaultText(boolFlag(flagManifest, false, "write MANIFEST.sha256 and MANIFEST.jsonl (--manifest=false turns it off)"), "on when rotating"),
		stringFlag(flagCount, "", "stop after `N` packets"),
		stringFlag(flagDuration, "", "stop after `DURATION`"),
		boolFlag(flagQuiet, false, "print less on standard error"),
		boolFlag(flagNoComments, false, "leave the metadata comment (hook, interfaces, mark, uid, seq) out of each packet"),
		stringFlag(flagMaxIfaces, fmt.Sprint(capture.DefaultMaxInterfaces), "most interfaces (group, prefix) per file; later prefixes share one overflow interface"),
		stringFlag(flagUser, "", "after binding, drop privileges to `USER` (files are then created as USER; the receive buffer starts at --rcvbuf-max, as it cannot grow past net.core.rmem_max without privileges)"),
		stringFlag(flagFileMode, "0600", "permissions of created files (octal)"),
		boolFlag(flagOverwrite, false, "allow -w to replace an existing file"),
		boolFlag(flagDirectIO, true, "write files with O_DIRECT where the filesystem allows (--direct-io=false to turn off)"),
		&cli.BoolFlag{Name: flagVersion, Usage: "print the version and exit"},
		&cli.StringFlag{Name: flagCPUProfile, Hidden: true, Usage: "write a CPU profile to FILE (for performance work)"},
	}
}
