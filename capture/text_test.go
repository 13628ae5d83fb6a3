package capture

import (
	"bytes"
	"strings"
	"testing"
	"time"
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
