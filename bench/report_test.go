//go:build linux

package main

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/nflogcap/nflogcap/internal/loadgen"
)

func TestParseReport(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		want      toolReport
	}{
		{"tcpdump", "tcpdump: listening on nflog:5000, link-type NFLOG\n97195 packets captured\n97195 packets received by filter\n5396 packets dropped by kernel\n", toolReport{97195, 5396}},
		{"dumpcap", "Capturing on 'nflog:5000'\nFile: x\n\rPackets captured: 80471\nPackets received/dropped on interface 'nflog:5000': 80471/38842 (pcap:38842/dumpcap:0/flushed:0/ps_ifdrop:0) (67.4%)\n", toolReport{80471, 38842}},
		{"bare", "listening on nflog:5000\nbare: 100000 packets received, 2 packets lost (seq gaps), 1 ENOBUFS, 10 datagrams, 5 bytes\n", toolReport{100000, 2}},
		{"nflogcap", "listening on group 5000\n1000 packets captured, 3 packets lost\n", toolReport{1000, 3}},
		{"silent", "", toolReport{-1, -1}},
	} {
		if got := newReportPatterns().parse([]byte(tc.out)); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestParseOptions(t *testing.T) {
	o, err := parseOptions([]string{"-sizes", "64,1400,200", "-tools", "bare,dumpcap", "-fast-args", "--a  --b"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.countFor(64) != 2000000 || o.countFor(1400) != 1000000 || o.countFor(200) != fallbackCount {
		t.Errorf("counts: %d %d %d", o.countFor(64), o.countFor(1400), o.countFor(200))
	}
	if strings.Join(o.tools, ",") != "bare,dumpcap" || len(o.fastArgs) != 2 {
		t.Errorf("tools %q fast-args %q", o.tools, o.fastArgs)
	}
	o, err = parseOptions([]string{"-count", "5"}, io.Discard)
	if err != nil || o.countFor(1400) != 5 {
		t.Fatalf("-count 5: %v", err)
	}
	for _, bad := range [][]string{{"-sizes", "4"}, {"-tools", "wireshark"}, {"-counts", "64"}, {"-group", "70000"}, {"extra"}} {
		if _, err := parseOptions(bad, io.Discard); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestFormatReport(t *testing.T) {
	rs := []result{
		{tool: "dumpcap", size: 1400, send: loadgen.Result{Sent: 1000, Duration: time.Millisecond}, captured: 700, cpu: 3500 * time.Microsecond, sysCPU: 1400 * time.Microsecond, maxRSS: 10 << 20, written: 2e6, report: toolReport{700, 0}, other: 0.05, notes: []string{"n1"}},
		{tool: "bare", size: 1400, send: loadgen.Result{Sent: 1000, Duration: time.Millisecond}, captured: 1000, fromTool: true, cpu: 500 * time.Microsecond, sysCPU: 450 * time.Microsecond, written: -1, report: toolReport{1000, 0}, other: -1},
		{tool: "nflogcap-default", size: 1400, skipped: "not built"},
		{tool: "tcpdump", size: 1400, err: errors.New("boom")},
	}
	got := formatReport(reportHeader{machine: "m", load: "l"}, rs)
	for _, want := range []string{
		"| dumpcap | 1400 | 1000 | 1000k/s | 700 | 300 (30.0%) | 5.00 | 2.00 | 10.0 | 2.0 MB | 0 | 5% |",
		"| bare | 1400 | 1000 | 1000k/s | 1000* | 0 (0%) | 0.500 | 0.450 | 0.0 | – | 0 | ? |",
		"- nflogcap-default: skipped: not built",
		"- tcpdump, 1400 B: failed: boom",
		"- dumpcap, 1400 B: n1",
		"captured*",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
}

func TestPercent(t *testing.T) {
	for p, want := range map[float64]string{0: "0", 29.81: "29.8", 0.05: "0.05", 0.00005: "0.0001", 0.00004: "0.0000"} {
		if got := percent(p); got != want {
			t.Errorf("percent(%v) = %q, want %q", p, got, want)
		}
	}
}
