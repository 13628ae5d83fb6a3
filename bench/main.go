//go:build linux

// Command bench runs capture tools side by side on the same NFLOG load and
// prints a Markdown table of what each captured and what it cost. Run it as
// root from the repository: go run ./bench [flags]. See bench/README.md.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	o, err := parseOptions(os.Args[1:], os.Stderr)
	if err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return errors.New("must run as root: it creates network namespaces, loads nft rules and binds NFLOG groups")
	}
	for _, t := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(t); err != nil {
			return fmt.Errorf("%s not on PATH (Debian: apt-get install iproute2 nftables)", t)
		}
	}
	if err := checkDiskDir(o.dir); err != nil {
		return err
	}
	barePath, cleanup, bareNote := prepareBare(ctx, o)
	defer cleanup()
	tools := makeTools(o, barePath, bareNote)

	header := reportHeader{
		machine:  machineLine(o.dir, time.Now().UTC().Format("2006-01-02 15:04 UTC")),
		load:     loadLine(o),
		versions: versions(tools),
	}
	runs, results := plan(o, tools)
	for i, pr := range runs {
		if ctx.Err() != nil {
			break
		}
		fmt.Fprintf(os.Stderr, "[%d/%d] %s, %d B, %d datagrams ... ", i+1, len(runs), displayName(pr.tool.name, pr.devnull), pr.size, o.countFor(pr.size))
		r := runOne(ctx, o, pr.tool, pr.size, pr.devnull)
		fmt.Fprintln(os.Stderr, progress(r))
		if o.showOutput && r.output != "" {
			fmt.Fprintf(os.Stderr, "%s\n", strings.TrimRight(r.output, "\n"))
		}
		results = append(results, r)
	}
	byTool(results, o.sizes, tools)
	report := formatReport(header, results)
	if ctx.Err() != nil {
		report += "\nInterrupted: the table is incomplete.\n"
	}
	fmt.Print(report)
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(report), 0o644); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: %w", ctx.Err())
	}
	return nil
}

// plannedRun is one tool at one size, to a file or to /dev/null.
type plannedRun struct {
	tool    *tool
	size    int
	devnull bool
}

// plan lists the runs in order and returns a result row for every tool that
// is skipped. Repeats go round the tools (a, b, c, a, b, c, ...), not one
// tool after another: on a shared VM the speed of the machine drifts over
// minutes, and tools compared from the same rounds see the same drift.
func plan(o *options, tools []*tool) ([]plannedRun, []result) {
	var runs []plannedRun
	var skipped []result
	for _, size := range o.sizes {
		for _, t := range tools {
			if t.skip != "" {
				skipped = append(skipped, result{tool: t.name, size: size, skipped: t.skip})
			}
		}
		for range o.repeat {
			for _, t := range tools {
				if t.skip != "" {
					continue
				}
				runs = append(runs, plannedRun{t, size, false})
				if o.devnull && t.devnull {
					runs = append(runs, plannedRun{t, size, true})
				}
			}
		}
	}
	return runs, skipped
}

// byTool orders results for the table: by size, then tool (in the order
// given), /dev/null runs after file runs, runs of one tool in the order made.
func byTool(results []result, sizes []int, tools []*tool) {
	rank := map[string]int{}
	for i, t := range tools {
		rank[t.name] = i
	}
	slices.SortStableFunc(results, func(a, b result) int {
		return cmp.Or(cmp.Compare(slices.Index(sizes, a.size), slices.Index(sizes, b.size)),
			cmp.Compare(rank[a.tool], rank[b.tool]), cmp.Compare(b2i(a.devnull), b2i(b.devnull)))
	})
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func progress(r result) string {
	if r.err != nil {
		return "failed: " + r.err.Error()
	}
	return fmt.Sprintf("sent %d at %s, captured %s, lost %s, %s µs/pkt (sys %s), other load %s", r.send.Sent, rate(r.send.Rate()), captured(r), lost(r), cpuPerPacket(r, r.cpu), cpuPerPacket(r, r.sysCPU), load(r.other))
}

func loadLine(o *options) string {
	var counts []string
	for _, s := range o.sizes {
		counts = append(counts, fmt.Sprintf("%d × %d B", o.countFor(s), s))
	}
	pace := "as fast as one sender thread goes (sendmmsg, batches of " + fmt.Sprint(o.batch) + ")"
	if o.rate > 0 {
		pace = fmt.Sprintf("limited to %.0f/s", o.rate)
	}
	place := func(cpu int) string {
		if cpu < 0 {
			return "unpinned"
		}
		return fmt.Sprintf("CPU %d", cpu)
	}
	nice := ""
	if o.nice != 0 {
		nice = fmt.Sprintf(", both at nice %d", o.nice)
	}
	return fmt.Sprintf("%s UDP datagrams to 127.0.0.1:%d in a fresh namespace per run, %s; nft `udp dport %d counter log prefix \"bench\" group %d drop` on input; sender %s, tool %s%s. CPU = user+sys of the tool from wait4 over its whole life; other load = CPU used by other processes during the flood, as a share of the machine",
		strings.Join(counts, ", "), benchPort, pace, benchPort, o.group, place(o.senderCPU), place(o.captureCPU), nice)
}

func versions(tools []*tool) []string {
	var v []string
	for _, t := range tools {
		if t.skip != "" {
			continue
		}
		switch t.name {
		case "dumpcap":
			v = append(v, toolVersion("dumpcap", 1))
		case "tcpdump":
			v = append(v, toolVersion("tcpdump", 2)) // the second line names libpcap
		}
	}
	return v
}

// prepareBare returns the bare reader to run: the -bare binary, or one built
// from this module into a temporary directory that cleanup removes. When it
// cannot, path is empty and note says why.
func prepareBare(ctx context.Context, o *options) (path string, cleanup func(), note string) {
	cleanup = func() {}
	wanted := false
	for _, t := range o.tools {
		wanted = wanted || t == "bare"
	}
	if !wanted {
		return "", cleanup, ""
	}
	if o.bare != "" {
		if _, err := os.Stat(o.bare); err != nil {
			return "", cleanup, fmt.Sprintf("bare reader %s: %v", o.bare, err)
		}
		return o.bare, cleanup, ""
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", cleanup, "go not on PATH to build the bare reader; pass -bare"
	}
	dir, err := os.MkdirTemp("", "nflogcap-bench-")
	if err != nil {
		return "", cleanup, fmt.Sprintf("temporary directory for the bare reader: %v", err)
	}
	cleanup = func() { os.RemoveAll(dir) }
	path = filepath.Join(dir, "bare")
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", path, "github.com/nflogcap/nflogcap/bench/bare")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", cleanup, fmt.Sprintf("build bare reader (run from the repository, or pass -bare): %v: %s", err, strings.TrimSpace(string(out)))
	}
	return path, cleanup, ""
}
