package e2e_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nflogcap/nflogcap/internal/netns"
	"github.com/nflogcap/nflogcap/internal/netns/nstest"
)

// e2eRuleset logs three kinds of traffic to group 5000: UDP to 7001 on input
// ("web-in"), UDP to 7002 on output with mark 0x2a ("dns-out"), and UDP to
// 7003 on input without a prefix.
const e2eRuleset = `
table inet e2e {
	chain in {
		type filter hook input priority 0;
		udp dport 7001 log prefix "web-in" group 5000
		udp dport 7003 log group 5000
	}
	chain out {
		type filter hook output priority 0;
		udp dport 7002 meta mark set 0x2a log prefix "dns-out" group 5000
	}
}`

func newE2ENS(t *testing.T, ruleset string) *netns.NS {
	t.Helper()
	ns := nstest.New(t, "tshark", "capinfos")
	if err := ns.Nft(ruleset); err != nil {
		t.Fatal(err)
	}
	return ns
}

// sentTraffic is what TestE2ECapture sends: per prefix, the payloads.
type sentTraffic map[string][]string

func sendE2ETraffic(t *testing.T, ns *netns.NS) sentTraffic {
	t.Helper()
	s4, s6 := newUDPSender(t, ns, "udp4"), newUDPSender(t, ns, "udp6")
	sent := sentTraffic{}
	add := func(iface string, s *udpSender, addr string, first, n, size int) {
		s.send(t, addr, first, n, size)
		for i := first; i < first+n; i++ {
			sent[iface] = append(sent[iface], hexOf(payload(i, size)))
		}
	}
	add("nflog:5000:web-in", s4, "127.0.0.1:7001", 0, 5, 100)
	add("nflog:5000:web-in", s6, "[::1]:7001", 5, 5, 1200)
	add("nflog:5000:dns-out", s4, "127.0.0.1:7002", 10, 4, 60)
	add("nflog:5000:dns-out", s6, "[::1]:7002", 14, 4, 60)
	add("nflog:5000", s4, "127.0.0.1:7003", 20, 3, 30)
	return sent
}

// The CI end-to-end test: known traffic through rules with several prefixes,
// IPv4 and IPv6, input and output hooks and a mark, captured with
// `nflogcap -g N -w FILE`; tshark must see one interface per prefix, the
// right number of packets on each, byte-identical payloads and the metadata.
func TestE2ECapture(t *testing.T) {
	ns := newE2ENS(t, e2eRuleset)
	file := filepath.Join(t.TempDir(), "out.pcapng")
	p := start(t, nil, "-g", "5000", "--netns", ns.Name, "-w", file)
	p.waitListening(t, 1)
	sent := sendE2ETraffic(t, ns)
	time.Sleep(300 * time.Millisecond)
	if code := p.stop(t, syscall.SIGINT); code != 0 {
		t.Fatalf("exit %d after SIGINT; stderr:\n%s", code, p.stderr.String())
	}
	stderr := p.stderr.String()
	for _, want := range []string{"21 packets captured", "0 packets lost", "0 ENOBUFS events", "receive buffer 32 MiB"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("exit statistics lack %q:\n%s", want, stderr)
		}
	}

	rows := tsharkFields(t, file, "frame.interface_name", "data.data", "frame.packet_flags_direction", "frame.comment", "ip.version", "ipv6.version", "frame.packet_id")
	got := sentTraffic{}
	for _, r := range rows {
		got[r[0]] = append(got[r[0]], r[1])
		dir, comment := r[2], r[3]
		switch r[0] {
		case "nflog:5000:dns-out":
			if dir != "0x00000002" || !strings.Contains(comment, "hook=output") || !strings.Contains(comment, "mark=0x2a") ||
				!strings.Contains(comment, "uid=0") || !strings.Contains(comment, "out=lo") || !strings.Contains(comment, "time=received") {
				t.Errorf("%s: direction %s comment %q", r[0], dir, comment)
			}
		default:
			if dir != "0x00000001" || !strings.Contains(comment, "hook=input") || !strings.Contains(comment, "in=lo") {
				t.Errorf("%s: direction %s comment %q", r[0], dir, comment)
			}
		}
		if id := r[6]; id == "" {
			t.Errorf("%s: no packet id (the sequence number)", r[0])
		}
	}
	for iface, payloads := range sent {
		g := got[iface]
		slices.Sort(g)
		slices.Sort(payloads)
		if !slices.Equal(g, payloads) {
			t.Errorf("%s: tshark shows %d payloads, want the %d sent, byte for byte", iface, len(g), len(payloads))
		}
	}
	if len(got) != len(sent) {
		t.Errorf("tshark shows interfaces %v, want %v", keys(got), keys(sent))
	}

	// gopacket reads the same file: same packets, and each IPv6 one is a
	// whole IPv6 packet with the payload at its end.
	pkts := readCapture(t, file)
	if len(pkts) != 21 {
		t.Fatalf("gopacket reads %d packets, want 21", len(pkts))
	}
	for _, pk := range pkts {
		if pk.linkType != 101 || pk.origLen != len(pk.data) {
			t.Errorf("%s: link type %d, %d of %d bytes", pk.iface, pk.linkType, len(pk.data), pk.origLen)
		}
	}
	info := capinfos(t, file)
	if n := strings.Count(info, "Number of stat entries = 1"); n != 3 {
		t.Errorf("capinfos shows %d interfaces with one statistics block, want 3:\n%s", n, info)
	}
}

func keys[V any](m map[string]V) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	slices.Sort(k)
	return k
}

var _ = fmt.Sprint
