//go:build linux

package capture

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/gopacket/pcapgo"

	"github.com/nflogcap/nflogcap/internal/netns/nstest"
	"github.com/nflogcap/nflogcap/internal/tooltest"
	"github.com/nflogcap/nflogcap/nflog"
	"github.com/nflogcap/nflogcap/pcapng"
)

// runTool runs tshark or capinfos on a file (internal/tooltest).
func runTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	return tooltest.Run(t, tooltest.RootWarning, name, args...)
}

// goldenInterface is what one interface of a golden file holds.
type goldenInterface struct {
	packets, drops int
}

// goldenInterfaces lists, per golden file, the interfaces the fixture
// stream makes and their packets and drops (testdata/nflog/README.md): the
// ipv4-input-seq packet, the batch of five and the snaplen-40 packet under
// prefix "in", with the copy-mode-meta packet ("in", no payload) on the
// fallback interface of raw; one packet each for out, arp, bridge and inet;
// two for netdev (plain and VLAN); and the hostile prefix's packet with 7
// lost before it.
func goldenInterfaces(file string) map[string]goldenInterface {
	if file == "raw.pcapng" {
		return map[string]goldenInterface{
			"nflog:5000:in": {7, 0}, "nflog:5000:in/sll2": {1, 0}, "nflog:5000:out": {1, 0},
			"nflog:5000:arp/sll2": {1, 0}, "nflog:5000:bridge/sll2": {1, 0}, "nflog:5000:netdev/sll2": {2, 0},
			"nflog:5000:inet": {1, 0}, `nflog:5000:evil\x1b[31m\xff\x0a`: {1, 7},
		}
	}
	return map[string]goldenInterface{ // nflog.pcapng and sll2.pcapng
		"nflog:5000:in": {8, 0}, "nflog:5000:out": {1, 0}, "nflog:5000:arp": {1, 0}, "nflog:5000:bridge": {1, 0},
		"nflog:5000:netdev": {2, 0}, "nflog:5000:inet": {1, 0}, `nflog:5000:evil\x1b[31m\xff\x0a`: {1, 7},
	}
}

// What Wireshark makes of the golden files: the interfaces, direction, drop
// count, sequence numbers, comments, and the NFLOG and SLL2 dissections.
func TestEncoderGoldenTshark(t *testing.T) {
	nstest.RequireTools(t, "tshark")
	fields := []string{"frame.interface_name", "frame.packet_flags_direction", "frame.drop_count", "frame.packet_id",
		"nflog.prefix", "sll.pkttype", "_ws.col.Protocol", "frame.comment"}
	for name := range goldenLinkTypes {
		t.Run(name, func(t *testing.T) {
			args := []string{"-r", filepath.Join("../testdata/capture", name), "-T", "fields", "-E", "separator=\t"}
			for _, f := range fields {
				args = append(args, "-e", f)
			}
			out := runTool(t, "tshark", args...)
			lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
			if len(lines) != 15 {
				t.Fatalf("tshark shows %d packets, want 15", len(lines))
			}
			got := map[string]goldenInterface{}
			for _, line := range lines {
				f := strings.Split(line, "\t")
				if len(f) != len(fields) {
					t.Fatalf("tshark line %q has %d fields, want %d", line, len(f), len(fields))
				}
				iface, dir, drops, id, prefix, pkttype, proto, comment := f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]
				st := got[iface]
				st.packets++
				if drops != "" {
					var n int
					fmt.Sscan(drops, &n)
					st.drops += n
				}
				got[iface] = st
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
			if fmt.Sprint(got) != fmt.Sprint(goldenInterfaces(name)) {
				t.Errorf("tshark's interfaces (packets, drops):\n%v\nwant\n%v", got, goldenInterfaces(name))
			}
		})
	}
}

// capinfos and gopacket's reader agree with the fixture stream on the
// interfaces, each one's packets, and (in its one ISB) its drops.
func TestEncoderGoldenCapinfos(t *testing.T) {
	nstest.RequireTools(t, "capinfos")
	for name := range goldenLinkTypes {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("../testdata/capture", name)
			want := goldenInterfaces(name)
			out := runTool(t, "capinfos", "-M", path)
			if !strings.Contains(out, fmt.Sprintf("\nNumber of packets:   %d\n", 15)) {
				t.Errorf("capinfos: not 15 packets:\n%s", out)
			}
			// capinfos 4.0 shows how many ISBs each interface has, not
			// their counts (Wireshark shows isb_ifdrop only when there is
			// exactly one); the counts are read with pcapgo below.
			sections := regexp.MustCompile(`(?m)^Interface #\d+ info:\n`).Split(out, -1)[1:]
			got, wantPackets := map[string]int{}, map[string]int{}
			for n, ifc := range want {
				wantPackets[n] = ifc.packets
			}
			for _, sec := range sections {
				kv := map[string]string{}
				for _, l := range strings.Split(sec, "\n") {
					if k, v, ok := strings.Cut(strings.TrimSpace(l), " = "); ok {
						kv[k] = v
					}
				}
				if kv["Number of stat entries"] != "1" {
					t.Errorf("capinfos: interface %s has %q ISBs, want 1", kv["Name"], kv["Number of stat entries"])
				}
				var n int
				fmt.Sscan(kv["Number of packets"], &n)
				got[kv["Name"]] = n
			}
			if len(sections) != len(want) || fmt.Sprint(got) != fmt.Sprint(wantPackets) {
				t.Errorf("capinfos: %d interfaces (packets) %v, want %d: %v", len(sections), got, len(want), wantPackets)
			}

			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			drops := map[int]uint64{}
			recv := map[int]uint64{}
			isbs := map[int]int{}
			r, err := pcapgo.NewNgReader(bytes.NewReader(b), pcapgo.NgReaderOptions{WantMixedLinkType: true,
				StatisticsCallback: func(id int, s pcapgo.NgInterfaceStatistics) {
					drops[id], recv[id] = s.PacketsDropped, s.PacketsReceived
					isbs[id]++
				}})
			if err != nil {
				t.Fatal(err)
			}
			for {
				if _, _, err := r.ReadPacketData(); err != nil {
					break
				}
			}
			for id := range r.NInterfaces() {
				ifc, _ := r.Interface(id)
				w := want[ifc.Name]
				if isbs[id] != 1 || drops[id] != uint64(w.drops) || recv[id] != uint64(w.packets+w.drops) {
					t.Errorf("pcapgo: %s: %d ISBs, %d dropped, %d received; want 1, %d, %d", ifc.Name, isbs[id], drops[id], recv[id], w.drops, w.packets+w.drops)
				}
			}
		})
	}
}

// A packet the snaplen cut keeps its IP and UDP dissection under the NFLOG
// link type: the original length stays the captured length (see write).
// With the cut bytes added to it, tshark stops in the NFLOG TLVs.
func TestEncoderNFLOGCutKeepsDissection(t *testing.T) {
	nstest.RequireTools(t, "tshark")
	ev := kernelEvent(t, nflog.Event{Family: nflog.FamilyIPv4, Group: 5000, HWProtocol: 0x0800, Hook: 1, InDev: 1,
		Prefix: []byte("cut"), Payload: ipv4Packet(228, 40)})
	path := filepath.Join(t.TempDir(), "cut.pcapng")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapng.NewWriter(f, &pcapng.WriterOptions{OS: "Linux", Hardware: "x86_64"})
	cfg := testConfig(pcapng.LinkTypeNFLOG)
	cfg.snaplen = 40
	if err := newEncoder(&cfg, w).write(&ev); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := strings.TrimSpace(runTool(t, "tshark", "-r", path, "-T", "fields", "-E", "separator=|",
		"-e", "frame.protocols", "-e", "nflog.prefix", "-e", "ip.len", "-e", "udp.dstport"))
	if want := "nflog:ip:udp:data|cut|228|9999"; got != want {
		t.Errorf("tshark: %q, want %q", got, want)
	}
}

// The interface names of the golden files, sorted: the prefixes of the
// fixture stream, and /sll2 for what raw IP cannot carry.
func TestEncoderGoldenNames(t *testing.T) {
	for name := range goldenLinkTypes {
		ifaces := goldenInterfaces(name)
		b, err := os.ReadFile(filepath.Join("../testdata/capture", name))
		if err != nil {
			t.Fatal(err)
		}
		l := newBlockLister(t, b)
		var got, want []string
		for _, ifc := range l.ifaces {
			got = append(got, ifc.name)
		}
		for n := range ifaces {
			want = append(want, n)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: interfaces %q, want %q", name, got, want)
		}
	}
}
