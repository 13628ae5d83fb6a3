//go:build linux

package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// options are the harness's flags, validated.
type options struct {
	sizes        []int
	count        int         // datagrams for every size when > 0
	counts       map[int]int // per-size datagram counts when count is 0
	rate         float64
	batch        int
	tools        []string
	nflogcap     string
	fastArgs     []string
	bare         string
	group        int
	dir          string
	keep         bool
	showOutput   bool
	devnull      bool
	out          string
	settle       time.Duration
	quiet        time.Duration
	drainMax     time.Duration
	readyTimeout time.Duration
	stopTimeout  time.Duration
	runTimeout   time.Duration
	senderCPU    int
	captureCPU   int
	nice         int
	idleMax      float64
	idleWait     time.Duration
	repeat       int
}

// toolNames lists the tools in the order they run for each size. The bare
// reader runs right after nflogcap's default run: the goal of staying within
// 2x of it is a ratio of those two, and this machine's speed drifts within
// the minute and a half the three other tools take.
func toolNames() []string {
	return []string{"nflogcap-default", "bare", "nflogcap-fast", "dumpcap", "tcpdump"}
}

// defaultCounts give each run a few seconds of flood at the rates this class of
// machine reaches, so the whole default run stays within about ten minutes.
const defaultCounts = "64=2000000,1400=1000000"

// fallbackCount is used for a size that neither -count nor -counts names.
const fallbackCount = 1000000

func parseOptions(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	sizes := fs.String("sizes", "64,1400", "UDP payload sizes in bytes, comma-separated (at least 8: the sequence number)")
	fs.IntVar(&o.count, "count", 0, "datagrams per run for every size (0: use -counts)")
	counts := fs.String("counts", defaultCounts, "datagrams per run by size, size=count pairs; other sizes get 1000000")
	fs.Float64Var(&o.rate, "rate", 0, "send rate limit in datagrams/s (0: as fast as one core allows)")
	fs.IntVar(&o.batch, "batch", 64, "datagrams per sendmmsg call")
	tools := fs.String("tools", strings.Join(toolNames(), ","), "tools to run, comma-separated, in this order: "+strings.Join(toolNames(), ", "))
	fs.StringVar(&o.nflogcap, "nflogcap", "./nflogcap", "nflogcap binary")
	fastArgs := fs.String("fast-args", "--no-comments", "extra nflogcap arguments for the nflogcap-fast run (split on spaces): its fastest settings")
	fs.StringVar(&o.bare, "bare", "", "prebuilt bare reader (default: go build ./bench/bare into a temporary directory)")
	fs.IntVar(&o.group, "group", 5000, "NFLOG group")
	fs.StringVar(&o.dir, "dir", "/var/tmp/nflogcap-bench", "directory for capture files; must be disk-backed (tmpfs is refused)")
	fs.BoolVar(&o.keep, "keep", false, "keep capture files instead of removing them after counting")
	fs.BoolVar(&o.showOutput, "show-output", false, "print each tool's own output (stdout and stderr) after its run")
	fs.BoolVar(&o.devnull, "devnull", false, "also run each file-writing tool with output to /dev/null (pipeline cost without the disk)")
	fs.StringVar(&o.out, "out", "", "also write the Markdown report to this file")
	fs.DurationVar(&o.settle, "settle", 500*time.Millisecond, "pause between the tool reporting ready and the flood")
	fs.DurationVar(&o.quiet, "quiet", 1500*time.Millisecond, "drained when output and tool CPU stay idle this long (longer than libpcap's 1 s kernel flush timeout)")
	fs.DurationVar(&o.drainMax, "drain-max", 30*time.Second, "longest wait for the tool to drain after the flood")
	fs.DurationVar(&o.readyTimeout, "ready-timeout", 15*time.Second, "longest wait for the tool to start listening")
	fs.DurationVar(&o.stopTimeout, "stop-timeout", 10*time.Second, "wait after SIGINT before SIGTERM, and after SIGTERM before SIGKILL")
	fs.DurationVar(&o.runTimeout, "run-timeout", 3*time.Minute, "limit for one tool at one size, start to finish")
	fs.IntVar(&o.senderCPU, "sender-cpu", -1, "pin the sending thread to this CPU (-1: let the scheduler place it)")
	fs.IntVar(&o.captureCPU, "capture-cpu", -1, "pin the capture tool to this CPU (-1: let the scheduler place it)")
	fs.IntVar(&o.nice, "nice", 0, "nice value for the sender and the tool, e.g. -10 on a shared machine (0: unchanged)")
	fs.Float64Var(&o.idleMax, "idle-max", 0.10, "before each run, wait until other processes use at most this share of the CPUs (0 disables the wait)")
	fs.DurationVar(&o.idleWait, "idle-wait", 30*time.Second, "longest wait for the machine to become idle before a run")
	fs.IntVar(&o.repeat, "repeat", 1, "runs per tool and size (each is a row)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	var err error
	if o.sizes, err = parseInts(*sizes); err != nil {
		return nil, fmt.Errorf("-sizes: %w", err)
	}
	for _, s := range o.sizes {
		if s < 8 || s > 65507 {
			return nil, fmt.Errorf("-sizes: %d outside [8, 65507]", s)
		}
	}
	if o.counts, err = parseCounts(*counts); err != nil {
		return nil, fmt.Errorf("-counts: %w", err)
	}
	if o.count < 0 || o.rate < 0 || o.batch <= 0 || o.repeat <= 0 || o.idleMax < 0 {
		return nil, fmt.Errorf("-count, -rate and -idle-max must not be negative; -batch and -repeat must be positive")
	}
	if o.nice < -20 || o.nice > 19 {
		return nil, fmt.Errorf("-nice %d outside [-20, 19]", o.nice)
	}
	if o.group < 0 || o.group > 0xffff {
		return nil, fmt.Errorf("-group %d out of range", o.group)
	}
	if o.tools, err = parseTools(*tools); err != nil {
		return nil, fmt.Errorf("-tools: %w", err)
	}
	o.fastArgs = strings.Fields(*fastArgs)
	return o, nil
}

// countFor is the number of datagrams to send at size.
func (o *options) countFor(size int) int {
	if o.count > 0 {
		return o.count
	}
	if n, ok := o.counts[size]; ok {
		return n
	}
	return fallbackCount
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

func parseCounts(s string) (map[int]int, error) {
	m := map[int]int{}
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	for _, f := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(f), "=")
		if !ok {
			return nil, fmt.Errorf("%q is not size=count", f)
		}
		size, err := strconv.Atoi(k)
		if err != nil {
			return nil, fmt.Errorf("size in %q: %w", f, err)
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("count in %q must be a positive integer", f)
		}
		m[size] = n
	}
	return m, nil
}

func parseTools(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		known := false
		for _, t := range toolNames() {
			known = known || t == f
		}
		if !known {
			return nil, fmt.Errorf("unknown tool %q (known: %s)", f, strings.Join(toolNames(), ", "))
		}
		out = append(out, f)
	}
	return out, nil
}
