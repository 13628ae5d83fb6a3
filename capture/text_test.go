package capture

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/nflogcap/nflogcap/nflog"
)

func TestTextPrinter(t *testing.T) {
	evs := fixtureEvents(t)
	var out bytes.Buffer
	p := newTextPrinter(&out, testNames)
	for i := range evs {
		evs[i].Time = time.Date(2026, 12, 3, 18, 14, 9, 123456000, time.Local)
		if err := p.write(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	if len(lines) != len(evs) {
		t.Fatalf("%d lines for %d events", len(lines), len(evs))
	}
	want := map[int]string{
		0:  "18:14:09.123456 nflog:5000:in In  in=lo out= IP 127.0.0.1.",
		1:  "18:14:09.123456 nflog:5000:out Out in= out=lo IP6 ::1.",
		7:  "18:14:09.123456 nflog:5000:in In  in=lo out= no payload (copy mode meta), proto 0x800",
		9:  "18:14:09.123456 nflog:5000:arp In  in=br0 out= ARP, Request who-has 10.201.0.1 tell 10.201.0.2, length 28",
		14: `18:14:09.123456 nflog:5000:evil\x1b[31m\xff\x0a In  in=lo out= IP 127.0.0.1.`,
	}
	for i, prefix := range want {
		if !strings.HasPrefix(lines[i], prefix) {
			t.Errorf("line %d:\n%s\nwant prefix\n%s", i, lines[i], prefix)
		}
	}
	if !strings.HasSuffix(lines[0], ": UDP, length 16") || !strings.HasSuffix(lines[14], "[7 lost before]") {
		t.Errorf("lines 0 and 14:\n%s\n%s", lines[0], lines[14])
	}
	for i, l := range lines {
		for _, c := range []byte(l) {
			if c < 0x20 || c == 0x7f {
				t.Fatalf("line %d has control byte %#x: %q", i, c, l)
			}
		}
	}
}

func TestTextPrinterAllocs(t *testing.T) {
	evs := fixtureEvents(t)[:7] // IPv4/IPv6 UDP
	p := newTextPrinter(discard{}, testNames)
	for i := range evs {
		p.write(&evs[i])
	}
	allocs := testing.AllocsPerRun(100, func() {
		for i := range evs {
			p.write(&evs[i])
		}
	})
	if allocs != 0 {
		t.Errorf("printing %d UDP packets allocated %v times", len(evs), allocs)
	}
}

// textPackets are whole IPv4 ICMP echo, IPv6 ICMPv6 echo and IPv4 TCP SYN
// packets, with the line each must give after the interface fields.
func textPackets() []struct {
	payload []byte
	want    string
} {
	icmp := []byte{0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
		8, 0, 0, 0, 0, 1, 0, 1} // echo request
	icmp6 := make([]byte, 48)
	icmp6[0], icmp6[5], icmp6[6], icmp6[7] = 0x60, 8, 58, 64
	icmp6[23], icmp6[39] = 1, 2
	icmp6[40] = 129 // echo reply
	unreach := []byte{0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
		3, 3, 0, 0, 0, 0, 0, 0} // port unreachable
	tcp := []byte{0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
		0x9c, 0x40, 0, 22, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0}
	return []struct {
		payload []byte
		want    string
	}{
		{icmp, "IP 10.0.0.1 > 10.0.0.2: ICMP echo request, length 28"},
		{icmp6, "IP6 ::1 > ::2: ICMP6 echo reply, length 48"},
		{unreach, "IP 10.0.0.1 > 10.0.0.2: ICMP unreachable code 3, length 28"},
		{tcp, "IP 10.0.0.1.40000 > 10.0.0.2.22: TCP, length 0"},
	}
}

// ICMP, ICMPv6 and TCP lines say what tcpdump would, and cost no allocation.
func TestTextPrinterProtocols(t *testing.T) {
	pkts := textPackets()
	evs := make([]nflog.Event, len(pkts))
	for i, pk := range pkts {
		evs[i] = nflog.Event{Family: nflog.FamilyIPv4, Group: 5000, Hook: nflog.HookInput, Payload: pk.payload,
			InDev: 1, Present: nflog.AttrPacketHdr | nflog.AttrPayload | nflog.AttrInDev, Time: time.Unix(0, 0)}
	}
	var out bytes.Buffer
	p := newTextPrinter(&out, testNames)
	for i := range evs {
		if err := p.write(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	p.flush()
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	for i, pk := range pkts {
		if i >= len(lines) || !strings.HasSuffix(lines[i], " in=lo out= "+pk.want) {
			t.Errorf("packet %d: got %q, want it to end with %q", i, lines[i], pk.want)
		}
	}
	d := newTextPrinter(discard{}, testNames)
	allocs := testing.AllocsPerRun(100, func() {
		for i := range evs {
			d.write(&evs[i])
		}
	})
	if allocs != 0 {
		t.Errorf("printing ICMP, ICMPv6 and TCP lines allocated %v times", allocs)
	}
}
