//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
)

// tool is one capture command the harness knows how to run and read.
type tool struct {
	name string
	// argv is the command line writing to out (a file, or /dev/null); out is
	// empty for a tool that writes nothing.
	argv func(out string) []string
	ext  string // capture file extension; empty when the tool writes no file
	// ready matches the stderr line a tool prints once it is bound to the group.
	ready   *regexp.Regexp
	devnull bool   // can write to /dev/null
	skip    string // non-empty: why this tool cannot run here
}

// writesFile reports whether the tool produces a capture file to count.
func (t *tool) writesFile() bool { return t.ext != "" }

// makeTools resolves the selected tools. Missing binaries become skips, not
// errors, so one run compares whatever is installed.
func makeTools(o *options, barePath, bareSkip string) []*tool {
	g := strconv.Itoa(o.group)
	// Absolute, so the command does not depend on the directory ip(8) runs it from.
	nflogcap, err := filepath.Abs(o.nflogcap)
	if err != nil {
		nflogcap = o.nflogcap
	}
	var out []*tool
	for _, name := range o.tools {
		var t *tool
		switch name {
		case "nflogcap-default", "nflogcap-fast":
			extra := []string(nil)
			if name == "nflogcap-fast" {
				extra = o.fastArgs
			}
			t = &tool{
				name: name, ext: ".pcapng", devnull: true,
				ready: regexp.MustCompile(`^listening on`),
				argv: func(out string) []string {
					return append([]string{nflogcap, "-g", g, "-w", out}, extra...)
				},
			}
			if _, err := os.Stat(nflogcap); err != nil {
				t.skip = fmt.Sprintf("nflogcap binary %s not found (build it, or pass -nflogcap)", o.nflogcap)
			}
		case "dumpcap":
			t = &tool{
				name: name, ext: ".pcapng", devnull: true,
				ready: regexp.MustCompile(`Capturing on`),
				argv: func(out string) []string {
					return []string{"dumpcap", "-i", "nflog:" + g, "-w", out, "-q"}
				},
			}
			t.skip = needPath("dumpcap")
		case "tcpdump":
			t = &tool{
				name: name, ext: ".pcap", devnull: true,
				ready: regexp.MustCompile(`listening on`),
				argv: func(out string) []string {
					return []string{"tcpdump", "-i", "nflog:" + g, "-w", out}
				},
			}
			t.skip = needPath("tcpdump")
		case "bare":
			t = &tool{
				name:  name,
				ready: regexp.MustCompile(`^listening on`),
				argv: func(string) []string {
					return []string{barePath, "-g", g}
				},
			}
			t.skip = bareSkip
		}
		out = append(out, t)
	}
	return out
}

func needPath(name string) string {
	if _, err := exec.LookPath(name); err != nil {
		return name + " not on PATH"
	}
	return ""
}
