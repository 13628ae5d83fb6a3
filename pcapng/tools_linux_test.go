package pcapng

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nflogcap/nflogcap/internal/netns/nstest"
	"github.com/nflogcap/nflogcap/internal/tooltest"
)

// toolTimeout bounds every tshark, capinfos and dumpcap run.
const toolTimeout = tooltest.Timeout

// harmlessStderr matches what Wireshark's tools print on stderr when all is
// well: the warning for root, and tshark -i's progress lines. tshark 4.0 -i
// on a pipe also prints an empty "tshark: " line when the pipe closes; it
// does the same for a classic pcap file fed through a FIFO, so it says
// nothing about our stream.
var harmlessStderr = regexp.MustCompile(`^(` +
	`Running as user "[^"]*" and group "[^"]*"\. This could be dangerous\.` +
	`|Capturing on '.*'` +
	`|\d+ packets? captured` +
	`|\*\* \(tshark:\d+\) [\d:.]+ \[Main MESSAGE\] -- (Capture started\.|File: ".*")` +
	`|tshark: ` +
	`)$`)

// checkStderr fails the test if stderr holds anything but harmless lines.
func checkStderr(t *testing.T, what string, stderr []byte) {
	t.Helper()
	tooltest.CheckStderr(t, what, stderr, harmlessStderr)
}

// runTool runs a command with a timeout and returns its stdout; the test
// fails on a non-zero exit or on anything unexpected on stderr.
func runTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	return tooltest.Run(t, harmlessStderr, name, args...)
}

// packetFields are the tshark fields that show what the writer put in each
// EPB, in the order of the columns printed.
var packetFields = []string{
	"frame.interface_id", "frame.interface_name", "frame.interface_description",
	"frame.time_epoch", "frame.len", "frame.cap_len",
	"frame.packet_flags_direction", "frame.drop_count", "frame.packet_id", "frame.comment",
	"frame.protocols",
}

func tsharkFields(t *testing.T, file string) []string {
	args := []string{"-r", file, "-T", "fields", "-E", "separator=|"}
	for _, f := range packetFields {
		args = append(args, "-e", f)
	}
	return strings.Split(strings.TrimSuffix(runTool(t, "tshark", args...), "\n"), "\n")
}

// TestGoldenInTshark checks what Wireshark shows for the golden stream: every
// field is worked out from the golden ops, the way tshark 4.0 prints it.
func TestGoldenInTshark(t *testing.T) {
	nstest.RequireTools(t, "tshark")
	m := modelOf(goldenOps())
	protocols := []string{
		"raw:ip:udp:data", "raw:ipv6:udp:data", "nflog:ip:udp:data", "sll:ethertype:ip:udp:data",
		"sll:ethertype:ipv6:udp", "raw:ip:udp:data", "raw:ip:udp:data", "nflog:ipv6:udp:data",
		"sll:ethertype:arp", "nflog:ip:udp:data",
	}
	var want []string
	for i, p := range m.packets {
		ifc := m.interfaces[p.Interface]
		direction, drops, id := "", "", ""
		if p.Flags != 0 {
			direction = fmt.Sprintf("0x%08x", p.Flags&3)
		}
		if p.DropCount != 0 || p.HasDropCount {
			drops = fmt.Sprint(p.DropCount)
		}
		if p.HasPacketID {
			id = fmt.Sprint(p.PacketID)
		}
		want = append(want, strings.Join([]string{
			fmt.Sprint(p.Interface), ifc.Name, ifc.Description,
			fmt.Sprintf("%d.%09d", p.Timestamp/1e9, p.Timestamp%1e9), fmt.Sprint(origLen(&p)), fmt.Sprint(len(captured(&p, ifc.SnapLen))),
			direction, drops, id, string(p.Comment), protocols[i],
		}, "|"))
	}
	got := tsharkFields(t, goldenPath)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("tshark fields (%s):\n%s\nwant:\n%s", strings.Join(packetFields, "|"), strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Spot checks that do not depend on the model.
	if !strings.HasPrefix(got[1], "0|nflog:1|") || !strings.Contains(got[1], "|0x00000002|3|1|après 3 pertes ✓|") {
		t.Errorf("packet 2 in tshark: %s", got[1])
	}

	// The same stream in big-endian order reads the same: the test reader's
	// idea of a big-endian stream agrees with Wireshark's.
	golden, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	be, err := toByteOrder(golden, binary.BigEndian)
	if err != nil {
		t.Fatal(err)
	}
	bePath := filepath.Join(t.TempDir(), "big-endian.pcapng")
	if err := os.WriteFile(bePath, be, 0o644); err != nil {
		t.Fatal(err)
	}
	if gotBE := tsharkFields(t, bePath); strings.Join(gotBE, "\n") != strings.Join(got, "\n") {
		t.Errorf("big-endian copy in tshark:\n%s\nlittle-endian:\n%s", strings.Join(gotBE, "\n"), strings.Join(got, "\n"))
	}
}

// TestGoldenInCapinfos checks capinfos's report. capinfos 4.0 shows, per
// interface, "Number of stat entries" (the ISBs it read) but not their
// values; Wireshark's Capture File Properties shows isb_ifdrop as "Dropped
// packets" only when that number is 1 (ui/summary.c), hence one ISB per
// interface.
func TestGoldenInCapinfos(t *testing.T) {
	nstest.RequireTools(t, "capinfos")
	m := modelOf(goldenOps())
	opts := goldenOptions()
	out := runTool(t, "capinfos", goldenPath)
	field := func(name string) string {
		re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `:\s+(.*)$`)
		if sub := re.FindStringSubmatch(out); sub != nil {
			return sub[1]
		}
		return "(missing)"
	}
	for name, want := range map[string]string{
		"File type":                    "Wireshark/... - pcapng",
		"File encapsulation":           "Per packet",
		"File timestamp precision":     "nanoseconds (9)",
		"Number of packets":            fmt.Sprint(len(m.packets)),
		"Capture hardware":             opts.Hardware,
		"Capture oper-sys":             opts.OS,
		"Capture application":          opts.Application,
		"Capture comment":              opts.Comment,
		"Number of interfaces in file": fmt.Sprint(len(m.interfaces)),
	} {
		if got := field(name); got != want {
			t.Errorf("capinfos %s: %q, want %q", name, got, want)
		}
	}
	encaps := map[LinkType]string{
		LinkTypeRaw:       "Raw IP (7 - rawip)",
		LinkTypeNFLOG:     "NFLOG (141 - nflog)",
		LinkTypeLinuxSLL2: "Linux cooked-mode capture v2 (210 - linux-sll2)",
	}
	sections := regexp.MustCompile(`(?m)^Interface #\d+ info:\n`).Split(out, -1)[1:]
	if len(sections) != len(m.interfaces) {
		t.Fatalf("capinfos lists %d interfaces, want %d:\n%s", len(sections), len(m.interfaces), out)
	}
	for i, ifc := range m.interfaces {
		lines := map[string]string{}
		for _, l := range strings.Split(sections[i], "\n") {
			if k, v, ok := strings.Cut(strings.TrimSpace(l), " = "); ok {
				lines[k] = v
			}
		}
		for k, want := range map[string]string{
			"Name":                   ifc.Name,
			"Description":            ifc.Description,
			"Encapsulation":          encaps[ifc.LinkType],
			"Capture length":         fmt.Sprint(ifc.SnapLen),
			"Time precision":         "nanoseconds (9)",
			"Number of stat entries": "1",
			"Number of packets":      fmt.Sprint(m.delivered[i]),
		} {
			if lines[k] != want {
				t.Errorf("capinfos interface #%d %s = %q, want %q", i, k, lines[k], want)
			}
		}
	}
}

// TestMaxCaptureLengthInTshark: a packet cut at MaxCaptureLength is the
// largest Wireshark reads (one byte more and it calls the file damaged).
func TestMaxCaptureLengthInTshark(t *testing.T) {
	nstest.RequireTools(t, "tshark")
	path := filepath.Join(t.TempDir(), "big.pcapng")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := NewWriter(f, nil)
	// LINKTYPE_USER0: shown as data, so nothing dissects the zeros.
	if _, err := w.AddInterface(&Interface{LinkType: 147, Name: "big"}); err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacket(&Packet{Data: make([]byte, MaxCaptureLength+1000)}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := strings.TrimSpace(runTool(t, "tshark", "-r", path, "-T", "fields", "-E", "separator=|", "-e", "frame.cap_len", "-e", "frame.len"))
	if want := fmt.Sprintf("%d|%d", MaxCaptureLength, MaxCaptureLength+1000); got != want {
		t.Errorf("tshark: %q, want %q", got, want)
	}
}
