package e2e_test

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cliCapture captures, in a fresh namespace, 2 web-in datagrams (input,
// IPv4 and IPv6) and one dns-out (output, IPv4) of size bytes with the given
// flags, and returns the file and nflogcap's stderr.
func cliCapture(t *testing.T, size int, flags ...string) (string, string) {
	t.Helper()
	ns := liveNS(t, "tshark", "capinfos")
	file := filepath.Join(t.TempDir(), "out.pcapng")
	p := liveStart(t, nil, nil, append([]string{"-g", "5000", "--netns", ns.Name, "-w", file}, flags...)...)
	p.waitListening(t, 1)
	newUDPSender(t, ns, "udp4").send(t, "127.0.0.1:7001", 0, 1, size)
	newUDPSender(t, ns, "udp6").send(t, "[::1]:7001", 1, 1, size)
	newUDPSender(t, ns, "udp4").send(t, "127.0.0.1:7002", 2, 1, size)
	time.Sleep(300 * time.Millisecond)
	liveStop(t, p, syscall.SIGINT)
	liveStatsLines(t, p.stderr.String(), 3)
	return file, p.stderr.String()
}

// cliRows reads the named fields of every packet with tshark, keyed by
// interface name then ordered as in the file.
func cliRows(t *testing.T, file string, fields ...string) map[string][][]string {
	t.Helper()
	rows := map[string][][]string{}
	for _, r := range tsharkFields(t, file, append([]string{"frame.interface_name"}, fields...)...) {
		for len(r) < len(fields)+1 {
			r = append(r, "")
		}
		rows[r[0]] = append(rows[r[0]], r[1:])
	}
	return rows
}

// --linktype nflog, --linktype sll2, --copy-mode meta and -s: tshark opens
// every file and dissects what each link type carries.
func TestCLILinkTypes(t *testing.T) {
	t.Run("nflog", func(t *testing.T) {
		t.Parallel()
		file, stderr := cliCapture(t, 100, "--linktype", "nflog")
		if !strings.Contains(stderr, "link type NFLOG") {
			t.Errorf("listening line does not name link type NFLOG:\n%s", stderr)
		}
		if info := capinfos(t, file); !strings.Contains(info, "NFLOG") {
			t.Errorf("capinfos does not show NFLOG encapsulation:\n%s", info)
		}
		rows := cliRows(t, file, "nflog.prefix", "udp.payload")
		for iface, prefix := range map[string]string{"nflog:5000:web-in": "web-in", "nflog:5000:dns-out": "dns-out"} {
			want := map[string]int{"web-in": 2, "dns-out": 1}[prefix]
			if len(rows[iface]) != want {
				t.Errorf("%d packets on %s, want %d", len(rows[iface]), iface, want)
			}
			for _, r := range rows[iface] {
				if r[0] != prefix || r[1] == "" {
					t.Errorf("%s: tshark dissects NFLOG prefix %q, UDP payload %q; want prefix %q and the payload", iface, r[0], r[1], prefix)
				}
			}
		}
	})
	t.Run("sll2", func(t *testing.T) {
		t.Parallel()
		file, stderr := cliCapture(t, 100, "--linktype", "sll2")
		if !strings.Contains(stderr, "link type LINUX_SLL2") {
			t.Errorf("listening line does not name link type LINUX_SLL2:\n%s", stderr)
		}
		rows := cliRows(t, file, "sll.pkttype", "sll.ifindex", "udp.payload")
		// Loopback is interface 1 in a fresh namespace; packets logged on
		// input were to this host (0), on output outgoing (4).
		for iface, pkttype := range map[string]string{"nflog:5000:web-in": "0", "nflog:5000:dns-out": "4"} {
			want := map[string]int{"0": 2, "4": 1}[pkttype]
			if len(rows[iface]) != want {
				t.Errorf("%d packets on %s, want %d", len(rows[iface]), iface, want)
			}
			for _, r := range rows[iface] {
				if r[0] != pkttype || r[1] != "1" || r[2] == "" {
					t.Errorf("%s: tshark dissects SLL2 packet type %q, interface index %q, UDP payload %q; want %s, 1 and the payload", iface, r[0], r[1], r[2], pkttype)
				}
			}
		}
	})
	t.Run("copy-mode meta", func(t *testing.T) {
		t.Parallel()
		file, stderr := cliCapture(t, 100, "--copy-mode", "meta")
		if !strings.Contains(stderr, ", copy meta,") || strings.Contains(stderr, "snaplen") {
			t.Errorf("listening line does not say copy meta (without a snaplen):\n%s", stderr)
		}
		// Raw IP cannot carry a packet without its bytes: such packets go
		// to the prefix's SLL2 interface, the 20-byte header alone.
		rows := cliRows(t, file, "frame.cap_len", "sll.pkttype", "udp.payload", "frame.comment")
		if len(rows["nflog:5000:web-in/sll2"]) != 2 || len(rows["nflog:5000:dns-out/sll2"]) != 1 || len(rows) != 2 {
			t.Errorf("tshark reads %v, want 2 web-in and 1 dns-out packets on SLL2 interfaces", rows)
		}
		for iface, rs := range rows {
			for _, r := range rs {
				if r[0] != "20" || r[1] == "" || r[2] != "" || !strings.Contains(r[3], "hook=") {
					t.Errorf("%s: %s bytes captured, SLL2 packet type %q, UDP payload %q, comment %q; want the SLL2 header only, and the metadata in the comment",
						iface, r[0], r[1], r[2], r[3])
				}
			}
		}
	})
	t.Run("snaplen 64", func(t *testing.T) {
		t.Parallel()
		file, stderr := cliCapture(t, 1000, "-s", "64")
		if !strings.Contains(stderr, ", snaplen 64,") {
			t.Errorf("listening line does not say snaplen 64:\n%s", stderr)
		}
		rows := cliRows(t, file, "frame.cap_len", "frame.len", "ip.version")
		n := 0
		for iface, rs := range rows {
			for _, r := range rs {
				n++
				full := "1028" // IPv4 + UDP + 1000
				if r[2] != "4" {
					full = "1048" // IPv6 + UDP + 1000
				}
				if r[0] != "64" || r[1] != full {
					t.Errorf("%s: %s of %s bytes, want 64 of %s", iface, r[0], r[1], full)
				}
			}
		}
		if n != 3 {
			t.Errorf("tshark reads %d packets, want 3", n)
		}
	})
}
