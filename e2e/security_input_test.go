package e2e_test

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// relHostilePrefixes are log prefixes an attacker who can load rules (or a
// careless admin) might write, and how nflogcap must show each. nft 1.0.6
// takes the bytes between the quotes of `log prefix "..."` as they are: raw
// control characters (ESC, BEL, CR, LF, TAB, DEL), C1 controls, U+2028 and
// invalid UTF-8 all pass; `\x1b` written out is NOT an escape to nft, it
// stays the four characters backslash, x, 1, b. nft refuses only what ends
// the string or the C string: a double quote, NUL, and more than 127 bytes.
var relHostilePrefixes = []struct{ raw, shown string }{
	{"esc\x1b[31mred\x07", `esc\x1b[31mred\x07`},
	{"bad\xff\xfeutf8\xc3(", `bad\xff\xfeutf8\xc3(`},
	{"nl\nline2\rcr\ttab", `nl\x0aline2\x0dcr\x09tab`},
	{"c1\xc2\x9bcsi\xe2\x80\xa8ls", `c1\xc2\x9bcsi\xe2\x80\xa8ls`},
	{`back\x1bslash`, `back\\x1bslash`},
	{"del\x7f end", `del\x7f end`},
	{"héllo ✓", "héllo ✓"}, // printable UTF-8 stays as is
}

// relHostileIface is the name the test gives the veth the packets arrive
// on: interface names may hold control characters too (the kernel refuses
// only '/', ':', whitespace and more than 15 bytes).
const relHostileIface, relHostileIfaceShown = "v\x1b[7mA\x07", `v\x1b[7mA\x07`

// relHostileRuleset logs UDP to port 7600+i with prefix i.
func relHostileRuleset() string {
	var b strings.Builder
	b.WriteString("table inet rel {\n\tchain in {\n\t\ttype filter hook input priority 0;\n")
	for i, p := range relHostilePrefixes {
		fmt.Fprintf(&b, "\t\tudp dport %d log prefix \"%s\" group 5000 drop\n", 7600+i, p.raw)
	}
	b.WriteString("\t}\n}\n")
	return b.String()
}

// relClean fails when s holds a byte a terminal or a parser could trip on:
// control characters other than the line ends allowed, C1 controls, line
// separators or invalid UTF-8.
func relClean(t *testing.T, what, s string, newlines bool) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("%s is not valid UTF-8: %q", what, s)
	}
	for _, r := range s {
		if r == '\n' && newlines {
			continue
		}
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == 0x2028 || r == 0x2029 {
			t.Errorf("%s holds raw %U: %q", what, r, s)
			return
		}
	}
}

// relSendHostile sends one datagram to each hostile prefix's port over
// the veth.
func relSendHostile(t *testing.T, s *udpSender) {
	t.Helper()
	for i := range relHostilePrefixes {
		s.send(t, fmt.Sprintf("10.99.0.1:%d", 7600+i), i, 1, 32)
	}
	time.Sleep(300 * time.Millisecond)
}

// Issue 6.4: prefixes (and interface names) with control characters and
// invalid UTF-8 are escaped in every output: interface names and
// descriptions and comments in the pcapng file, the text output, stderr.
func TestSecurityHostilePrefixes(t *testing.T) {
	a, b, _ := relVeth(t, relHostileRuleset())
	for _, args := range [][]string{{"link", "set", "vA", "down"}, {"link", "set", "vA", "name", relHostileIface}, {"link", "set", relHostileIface, "up"}} {
		if err := a.Run("ip", args...); err != nil {
			t.Fatal(err)
		}
	}
	// The rules hold the raw bytes (nft lists them back unescaped).
	if out, err := a.Output("nft", "list", "ruleset"); err != nil || !strings.Contains(string(out), relHostilePrefixes[0].raw) {
		t.Fatalf("nft did not keep the raw prefix: %v\n%q", err, out)
	}
	s := newUDPSender(t, b, "udp4")

	t.Run("text", func(t *testing.T) {
		p := start(t, nil, "-g", "5000", "--netns", a.Name)
		p.waitListening(t, 1)
		relSendHostile(t, s)
		relStop(t, p, 20*time.Second)
		out, stderr := p.stdout.String(), p.stderr.String()
		relClean(t, "standard output", out, true)
		relClean(t, "standard error", stderr, true)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != len(relHostilePrefixes) {
			t.Fatalf("%d lines on standard output, want %d:\n%s", len(lines), len(relHostilePrefixes), out)
		}
		for i, p := range relHostilePrefixes {
			want := " nflog:5000:" + p.shown + " In  in=" + relHostileIfaceShown + " out= IP 10.99.0.2."
			if !strings.Contains(lines[i], want) {
				t.Errorf("line %d: %q\nwant it to contain %q", i, lines[i], want)
			}
		}
	})

	t.Run("pcapng", func(t *testing.T) {
		// With room for 4 interfaces, the last 3 prefixes go to the
		// overflow interface, whose packets name their prefix in the comment.
		file := filepath.Join(t.TempDir(), "hostile.pcapng")
		p := start(t, nil, "-g", "5000", "--netns", a.Name, "-w", file, "--max-interfaces", "4")
		p.waitListening(t, 1)
		relSendHostile(t, s)
		relStop(t, p, 20*time.Second)
		relClean(t, "standard error", p.stderr.String(), true)

		f := relReadPcapng(t, file)
		for _, name := range f.ifaces {
			relClean(t, "interface name", name, false)
		}
		// Every string nflogcap wrote (names, descriptions, comments), raw.
		for _, str := range f.strs {
			relClean(t, "pcapng string option", str, false)
		}
		if len(f.strs) < 2*len(relHostilePrefixes) {
			t.Errorf("only %d string options in the file", len(f.strs))
		}
		// tshark shows exactly nflogcap's escaped text.
		out, err := exec.Command("tshark", "-r", file, "-T", "fields", "-E", "separator=|",
			"-e", "frame.interface_name", "-e", "frame.interface_description", "-e", "frame.comment").Output()
		if err != nil {
			t.Fatal(err)
		}
		relClean(t, "tshark's view of the file", string(out), true)
		rows := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		if len(rows) != len(relHostilePrefixes) {
			t.Fatalf("%d packets, want %d:\n%s", len(rows), len(relHostilePrefixes), out)
		}
		for i, p := range relHostilePrefixes {
			r := strings.SplitN(rows[i], "|", 3)
			if len(r) != 3 {
				t.Fatalf("row %d: %q", i, rows[i])
			}
			name, descr, comment := r[0], r[1], r[2]
			if !strings.Contains(comment, "in="+relHostileIfaceShown+" ") {
				t.Errorf("packet %d: comment %q lacks the escaped interface name", i, comment)
			}
			if i < 4 {
				if name != "nflog:5000:"+p.shown || !strings.Contains(descr, `log prefix "`+p.shown+`"`) {
					t.Errorf("packet %d: interface %q, description %q; want prefix %q", i, name, descr, p.shown)
				}
				continue
			}
			if name != "nflog:overflow" || !strings.HasSuffix(comment, " prefix="+p.shown) {
				t.Errorf("packet %d: interface %q, comment %q; want the overflow interface and prefix=%s", i, name, comment, p.shown)
			}
		}
	})
}

// Issue 6.4: a flood of distinct prefixes cannot grow memory without bound:
// with --max-interfaces 100, 1,000 rules with 1,000 prefixes give exactly
// 100 named interfaces and one overflow interface, every packet is in the
// file, and the exit statistics count the overflow.
func TestSecurityPrefixFlood(t *testing.T) {
	const rules, limit = 1000, 100
	var rs strings.Builder
	rs.WriteString("table inet rel {\n\tchain in {\n\t\ttype filter hook input priority 0;\n")
	for i := range rules {
		fmt.Fprintf(&rs, "\t\tudp dport %d log prefix \"p%04d\" group 5000 drop\n", 20000+i, i)
	}
	rs.WriteString("\t}\n}\n")
	ns := newE2ENS(t, rs.String())
	file := filepath.Join(t.TempDir(), "flood.pcapng")
	p := start(t, nil, "-g", "5000", "--netns", ns.Name, "-w", file, "--max-interfaces", fmt.Sprint(limit))
	p.waitListening(t, 1)
	s := newUDPSender(t, ns, "udp4")
	for i := range rules {
		s.send(t, fmt.Sprintf("127.0.0.1:%d", 20000+i), i, 1, 24)
	}
	time.Sleep(300 * time.Millisecond)
	relStop(t, p, 20*time.Second)
	e := relParseExit(t, p.stderr.String())
	t.Logf("%d captured, %d lost, %d to the overflow interface", e.captured, e.lost, e.overflow)
	if e.captured != rules || e.lost != 0 || e.overflow != rules-limit {
		t.Errorf("exit statistics: %d captured, %d lost, %d overflowed; want %d, 0, %d:\n%s",
			e.captured, e.lost, e.overflow, rules, rules-limit, p.stderr.String())
	}
	f := relReadPcapng(t, file)
	named := 0
	for _, n := range f.ifaces {
		if strings.HasPrefix(n, "nflog:5000:p") {
			named++
		}
	}
	if named != limit || len(f.ifaces) != limit+1 || f.ifaces[limit] != "nflog:overflow" {
		t.Errorf("%d interfaces (%d named by prefix), last %q; want %d named and nflog:overflow", len(f.ifaces), named, f.ifaces[len(f.ifaces)-1], limit)
	}
	seen := map[string]int{}
	for _, r := range tsharkFields(t, file, "frame.interface_name", "frame.comment") {
		prefix, ok := strings.CutPrefix(r[0], "nflog:5000:")
		if r[0] == "nflog:overflow" {
			_, prefix, ok = strings.Cut(r[1], " prefix=")
		}
		if !ok {
			t.Errorf("packet on %q with comment %q names no prefix", r[0], r[1])
		}
		seen[prefix]++
	}
	for i := range rules {
		if p := fmt.Sprintf("p%04d", i); seen[p] != 1 {
			t.Errorf("prefix %s: %d packets, want 1", p, seen[p])
		}
	}
}
