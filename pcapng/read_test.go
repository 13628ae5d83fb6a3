package pcapng_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/gopacket/pcapgo"

	"github.com/nflogcap/nflogcap/pcapng"
)

// readStream writes two interfaces and packets with and without packet ids
// and drop counts, and returns the stream and the records expected back.
func readStream(t *testing.T) ([]byte, []pcapng.PacketRecord) {
	t.Helper()
	var buf bytes.Buffer
	w := pcapng.NewWriter(&buf, nil)
	a, err := w.AddInterface(&pcapng.Interface{LinkType: pcapng.LinkTypeRaw, Name: "nflog:5000:a"})
	if err != nil {
		t.Fatal(err)
	}
	var want []pcapng.PacketRecord
	for i := range 40 {
		if i == 20 {
			if _, err := w.AddInterface(&pcapng.Interface{LinkType: pcapng.LinkTypeRaw, Name: "nflog:5001"}); err != nil {
				t.Fatal(err)
			}
		}
		p := pcapng.Packet{Interface: a, Timestamp: 1764786000_123456789 + int64(i)*1_000_001, Data: bytes.Repeat([]byte{byte(i)}, 20+i)}
		name := "nflog:5000:a"
		if i >= 20 && i%2 == 1 {
			p.Interface, name = 1, "nflog:5001"
		}
		if i%3 != 0 {
			p.PacketID, p.HasPacketID = uint64(1000+i), true
		}
		if i%7 == 6 {
			p.DropCount, p.HasDropCount = uint64(i), true
		}
		if err := w.WritePacket(&p); err != nil {
			t.Fatal(err)
		}
		want = append(want, pcapng.PacketRecord{Interface: p.Interface, InterfaceName: name, Timestamp: p.Timestamp,
			CapturedLen: len(p.Data), PacketID: p.PacketID, HasPacketID: p.HasPacketID, DropCount: p.DropCount})
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), want
}

func readAll(t *testing.T, b []byte) ([]pcapng.PacketRecord, error) {
	t.Helper()
	var got []pcapng.PacketRecord
	err := pcapng.ReadPackets(bytes.NewReader(b), func(r *pcapng.PacketRecord) error {
		got = append(got, *r)
		return nil
	})
	return got, err
}

// Every packet comes back with its interface, time, packet id and drops.
func TestReadPackets(t *testing.T) {
	stream, want := readStream(t)
	got, err := readAll(t, stream)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("record %d: %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// A stream cut anywhere reads without error up to its last complete
// block: the records are a prefix of the whole stream's.
func TestReadPacketsTorn(t *testing.T) {
	stream, want := readStream(t)
	for n := range len(stream) {
		got, err := readAll(t, stream[:n])
		if err != nil {
			t.Fatalf("cut at %d: %v", n, err)
		}
		if len(got) > len(want) {
			t.Fatalf("cut at %d: %d records of %d", n, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("cut at %d: record %d differs", n, i)
			}
		}
		if n == len(stream)-1 && len(got) != len(want) {
			t.Errorf("cut in the last block: %d records, want all %d", len(got), len(want))
		}
	}
}

func TestReadPacketsRejects(t *testing.T) {
	if _, err := readAll(t, []byte("not a pcapng stream at all")); !errors.Is(err, pcapng.ErrNotPcapng) {
		t.Errorf("text: %v, want ErrNotPcapng", err)
	}
	stream, _ := readStream(t)
	bad := bytes.Clone(stream)
	// The first IDB follows the SHB; give it a length that is not a
	// multiple of 4.
	shbLen := int(bad[4]) | int(bad[5])<<8
	bad[shbLen+4]++
	if _, err := readAll(t, bad); !errors.Is(err, pcapng.ErrInvalid) {
		t.Errorf("damaged block length: %v, want ErrInvalid", err)
	}
}

// The golden files read back with as many packets as gopacket's reader
// finds, in the same order of time.
func TestReadPacketsGolden(t *testing.T) {
	files, _ := filepath.Glob("../testdata/*/*.pcapng")
	if len(files) == 0 {
		t.Fatal("no golden pcapng files")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := readAll(t, b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		r, err := pcapgo.NewNgReader(bytes.NewReader(b), pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		n := 0
		for {
			_, ci, err := r.ReadPacketData()
			if err != nil {
				break
			}
			if n < len(got) && got[n].Timestamp != ci.Timestamp.UnixNano() {
				t.Errorf("%s packet %d: time %d, gopacket %d", f, n, got[n].Timestamp, ci.Timestamp.UnixNano())
			}
			n++
		}
		if n != len(got) {
			t.Errorf("%s: %d records, gopacket reads %d packets", f, len(got), n)
		}
	}
}
