package e2e_test

import (
	"fmt"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

// cliPrefixes are log prefixes nft accepts although they would steer a
// terminal or break a line, and how the text output must show them.
var cliPrefixes = []struct {
	port          int
	prefix, shown string
}{
	{7030, `back\slash`, `back\\slash`},
	{7031, "ü-é→", "ü-é→"}, // printable UTF-8 stays
	{7032, "esc\x1b[31mred", `esc\x1b[31mred`},
	{7033, "ctl\x01x", `ctl\x01x`},
	{7034, "tab\tx", `tab\x09x`},
	{7035, "nl\nx", `nl\x0ax`},
	{7036, "cr\rx", `cr\x0dx`},
	{7037, "del\x7fx", `del\x7fx`},
	{7038, "csi\u009bx", `csi\xc2\x9bx`}, // C1 control (CSI) in UTF-8
	{7039, "ls\u2028x", `ls\xe2\x80\xa8x`},
}

// cliTextLine is the tcpdump-style line of a UDP datagram.
func cliTextLine(prefix, dir, in, out, ipv, src, dst string, dport, length int) *regexp.Regexp {
	return regexp.MustCompile(`^\d{2}:\d{2}:\d{2}\.\d{6} nflog:5000:` + regexp.QuoteMeta(prefix) + ` ` + dir +
		` in=` + in + ` out=` + out + ` ` + ipv + ` ` + regexp.QuoteMeta(src) + `\.\d+ > ` + regexp.QuoteMeta(dst) +
		`\.` + fmt.Sprint(dport) + `: UDP, length ` + fmt.Sprint(length) + `$`)
}

// cliCheckTerminalSafe checks that text holds nothing that steers a
// terminal: valid UTF-8, no control characters but newline, no C1 controls,
// no line or paragraph separators.
func cliCheckTerminalSafe(t *testing.T, text string) {
	t.Helper()
	if !utf8.ValidString(text) {
		t.Errorf("output is not valid UTF-8: %q", text)
	}
	for i, r := range text {
		if (r < 0x20 && r != '\n') || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 {
			t.Errorf("output has raw %U at byte %d: %q", r, i, text)
			return
		}
	}
}

// Without -w: one tcpdump-style line per packet on stdout (time, group and
// prefix, direction, interfaces, addresses and ports, protocol, length), and
// prefixes with control characters, backslashes or non-ASCII escaped so
// nothing raw reaches the terminal.
func TestCLITextOutput(t *testing.T) {
	ns := liveNS(t)
	var rules strings.Builder
	rules.WriteString("table inet esc {\n\tchain in {\n\t\ttype filter hook input priority 0;\n")
	for _, pf := range cliPrefixes {
		fmt.Fprintf(&rules, "\t\tudp dport %d log prefix \"%s\" group 5000\n", pf.port, pf.prefix)
	}
	rules.WriteString("\t}\n}\n")
	if err := ns.Nft(rules.String()); err != nil {
		t.Fatal(err)
	}
	listed, err := ns.Output("nft", "list", "table", "inet", "esc")
	if err != nil {
		t.Fatal(err)
	}
	for _, pf := range cliPrefixes {
		if !strings.Contains(string(listed), `prefix "`+pf.prefix+`"`) {
			t.Fatalf("nft did not keep prefix %q as given; its ruleset:\n%q", pf.prefix, listed)
		}
	}

	p := liveStart(t, nil, nil, "-g", "5000", "--netns", ns.Name)
	p.waitListening(t, 1)
	s4, s6 := newUDPSender(t, ns, "udp4"), newUDPSender(t, ns, "udp6")
	var want []*regexp.Regexp
	s4.send(t, "127.0.0.1:7001", 0, 1, 100)
	want = append(want, cliTextLine("web-in", "In ", "lo", "", "IP", "127.0.0.1", "127.0.0.1", 7001, 100))
	s6.send(t, "[::1]:7001", 1, 1, 50)
	want = append(want, cliTextLine("web-in", "In ", "lo", "", "IP6", "::1", "::1", 7001, 50))
	s4.send(t, "127.0.0.1:7002", 2, 1, 60)
	want = append(want, cliTextLine("dns-out", "Out", "", "lo", "IP", "127.0.0.1", "127.0.0.1", 7002, 60))
	for i, pf := range cliPrefixes {
		s4.send(t, fmt.Sprintf("127.0.0.1:%d", pf.port), 10+i, 1, 8)
		want = append(want, cliTextLine(pf.shown, "In ", "lo", "", "IP", "127.0.0.1", "127.0.0.1", pf.port, 8))
	}
	time.Sleep(300 * time.Millisecond)
	liveStop(t, p, syscall.SIGINT)
	out := p.stdout.String()
	cliCheckTerminalSafe(t, out)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(want) || !strings.HasSuffix(out, "\n") {
		t.Fatalf("%d lines on stdout, want %d, one per packet:\n%s", len(lines), len(want), out)
	}
	// Each expected line once (input and output hooks may interleave).
	used := make([]bool, len(lines))
	for _, re := range want {
		found := false
		for i, line := range lines {
			if !used[i] && re.MatchString(line) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			t.Errorf("no line matches\n  %s", re)
		}
	}
	for i, line := range lines {
		if !used[i] {
			t.Errorf("unexpected line %d: %q", i+1, line)
		}
	}
	liveStatsLines(t, p.stderr.String(), len(want))
}

// -c N stops after N packets and --duration D after D, by themselves, with
// exit status 0 and the statistics.
func TestCLIStopsByItself(t *testing.T) {
	t.Run("count", func(t *testing.T) {
		ns := liveNS(t)
		p := liveStart(t, nil, nil, "-g", "5000", "--netns", ns.Name, "-c", "3")
		p.waitListening(t, 1)
		s := newUDPSender(t, ns, "udp4")
		for i := range 5 {
			s.send(t, "127.0.0.1:7001", i, 1, 20)
			time.Sleep(20 * time.Millisecond)
		}
		if code := p.wait(t, 10*time.Second); code != 0 {
			t.Fatalf("exit %d; stderr:\n%s", code, p.stderr.String())
		}
		if n := strings.Count(p.stdout.String(), "\n"); n != 3 {
			t.Errorf("%d lines on stdout, want 3:\n%s", n, p.stdout.String())
		}
		liveStatsLines(t, p.stderr.String(), 3)
	})
	t.Run("duration", func(t *testing.T) {
		ns := liveNS(t)
		t0 := time.Now()
		p := liveStart(t, nil, nil, "-g", "5000", "--netns", ns.Name, "--duration", "1s")
		p.waitListening(t, 1)
		newUDPSender(t, ns, "udp4").send(t, "127.0.0.1:7001", 0, 2, 20)
		if code := p.wait(t, 10*time.Second); code != 0 {
			t.Fatalf("exit %d; stderr:\n%s", code, p.stderr.String())
		}
		took := time.Since(t0)
		t.Logf("--duration 1s: exit after %v", took.Round(time.Millisecond))
		if took < time.Second {
			t.Errorf("--duration 1s ended after %v", took)
		}
		if n := strings.Count(p.stdout.String(), "\n"); n != 2 {
			t.Errorf("%d lines on stdout, want 2:\n%s", n, p.stdout.String())
		}
		liveStatsLines(t, p.stderr.String(), 2)
	})
}
