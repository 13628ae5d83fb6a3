//go:build linux

package capture

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nflogcap/nflogcap/internal/netns/nstest"
)

// What Wireshark makes of the golden files: the interfaces, direction, drop
// count, sequence numbers, comments, and the NFLOG and SLL2 dissections.
func TestEncoderGoldenTshark(t *testing.T) {
	nstest.RequireTools(t, "tshark")
	fields := []string{"frame.interface_name", "frame.packet_flags_direction", "frame.drop_count", "frame.packet_id",
		"nflog.prefix", "sll.pkttype", "_ws.col.Protocol", "frame.comment"}
	wantIfaces := map[string][]string{
		"raw.pcapng":   {"nflog:5000:arp/sll2", "nflog:5000:bridge/sll2", `nflog:5000:evil\x1b[31m\xff\x0a`, "nflog:5000:in", "nflog:5000:in/sll2", "nflog:5000:inet", "nflog:5000:netdev/sll2", "nflog:5000:out"},
		"nflog.pcapng": {"nflog:5000:arp", "nflog:5000:bridge", `nflog:5000:evil\x1b[31m\xff\x0a`, "nflog:5000:in", "nflog:5000:inet", "nflog:5000:netdev", "nflog:5000:out"},
		"sll2.pcapng":  {"nflog:5000:arp", "nflog:5000:bridge", `nflog:5000:evil\x1b[31m\xff\x0a`, "nflog:5000:in", "nflog:5000:inet", "nflog:5000:netdev", "nflog:5000:out"},
	}
	for name := range goldenLinkTypes {
		t.Run(name, func(t *testing.T) {
			args := []string{"-r", filepath.Join("../testdata/capture", name), "-T", "fields", "-E", "separator=\t"}
			for _, f := range fields {
				args = append(args, "-e", f)
			}
			out, err := exec.Command("tshark", args...).Output()
			if err != nil {
				t.Fatalf("tshark: %v", err)
			}
			lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
			if len(lines) != 15 {
				t.Fatalf("tshark shows %d packets, want 15", len(lines))
			}
			ifaces := map[string]bool{}
			for _, line := range lines {
				f := strings.Split(line, "\t")
				iface, dir, drops, id, prefix, pkttype, proto, comment := f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]
				ifaces[iface] = true
				if !strings.HasPrefix(comment, "hook=") {
					t.Errorf("%s: comment %q", iface, comment)
				}
				switch {
				case iface == "nflog:5000:out":
					if dir != "0x00000002" || !strings.Contains(comment, "mark=0x2a") {
						t.Errorf("out: direction %s comment %q", dir, comment)
					}
					if name == "sll2.pcapng" && pkttype != "4" {
						t.Errorf("out: SLL2 packet type %s, want 4 (outgoing)", pkttype)
					}
				case strings.HasPrefix(iface, "nflog:5000:evil"):
					if drops != "7" || id != "8" || !strings.Contains(comment, "lost=7") {
						t.Errorf("evil: drop count %q packet id %q comment %q; want 7 lost before packet 8", drops, id, comment)
					}
				default:
					if dir != "0x00000001" {
						t.Errorf("%s: direction %s, want inbound", iface, dir)
					}
				}
				if name == "nflog.pcapng" && prefix == "" {
					t.Errorf("%s: Wireshark's NFLOG dissector found no prefix", iface)
				}
				if strings.Contains(iface, "arp") && proto != "ARP" {
					t.Errorf("%s: protocol %s, want ARP", iface, proto)
				}
			}
			got := make([]string, 0, len(ifaces))
			for i := range ifaces {
				got = append(got, i)
			}
			slices.Sort(got)
			if !slices.Equal(got, wantIfaces[name]) {
				t.Errorf("interfaces %q, want %q", got, wantIfaces[name])
			}
		})
	}
}
