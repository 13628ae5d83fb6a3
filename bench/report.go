//go:build linux

package main

import (
	"regexp"
	"strconv"
)

// toolReport is what a tool says about itself on exit; -1 means it did not say.
type toolReport struct {
	captured int64 // packets the tool says it captured or received
	drops    int64 // packets the tool says were dropped or lost
}

// reportPatterns match the exit statistics of the tools the harness runs.
// Each pattern's groups are (captured) or (drops), or for dumpcap's per-interface
// line (received, dropped).
type reportPatterns struct {
	captured []*regexp.Regexp
	drops    []*regexp.Regexp
	dumpcap  *regexp.Regexp
}

func newReportPatterns() *reportPatterns {
	return &reportPatterns{
		captured: []*regexp.Regexp{
			// Not anchored to line starts: dumpcap starts its summary with a carriage return.
			regexp.MustCompile(`\b(\d+) packets? captured`),      // tcpdump, nflogcap
			regexp.MustCompile(`\bPackets captured: (\d+)`),      // dumpcap
			regexp.MustCompile(`\bbare: (\d+) packets received`), // bare reader
		},
		drops: []*regexp.Regexp{
			regexp.MustCompile(`\b(\d+) packets? dropped by kernel`), // tcpdump
			regexp.MustCompile(`\b(\d+) packets? lost`),              // nflogcap, bare
		},
		dumpcap: regexp.MustCompile(`Packets received/dropped on interface '[^']*': (\d+)/(\d+)`),
	}
}

// parse reads the statistics out of a tool's combined stdout and stderr. When
// a pattern matches several times (several interfaces) the counts are summed.
func (p *reportPatterns) parse(out []byte) toolReport {
	r := toolReport{captured: -1, drops: -1}
	add := func(v *int64, s []byte) {
		n, err := strconv.ParseInt(string(s), 10, 64)
		if err != nil {
			return
		}
		*v = max(*v, 0) + n
	}
	for _, re := range p.captured {
		for _, m := range re.FindAllSubmatch(out, -1) {
			add(&r.captured, m[1])
		}
	}
	for _, m := range p.dumpcap.FindAllSubmatch(out, -1) {
		add(&r.drops, m[2])
	}
	for _, re := range p.drops {
		for _, m := range re.FindAllSubmatch(out, -1) {
			add(&r.drops, m[1])
		}
	}
	return r
}
