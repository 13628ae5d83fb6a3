//go:build linux

package main

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nflogcap/nflogcap/internal/loadgen"
)

// udpIPv4 builds an IPv4/UDP datagram to the bench port carrying a loadgen payload.
func udpIPv4(seq uint64, size int) []byte {
	p := make([]byte, 28+size)
	p[0] = 0x45
	binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
	p[9] = udpProto
	copy(p[12:], []byte{127, 0, 0, 1, 127, 0, 0, 1})
	binary.BigEndian.PutUint16(p[20:], 40000)
	binary.BigEndian.PutUint16(p[22:], benchPort)
	binary.BigEndian.PutUint16(p[24:], uint16(8+size))
	loadgen.Fill(p[28:])
	loadgen.PutSeq(p[28:], seq)
	return p
}

// nflogRecord wraps an IP packet as libpcap's NFLOG link type does: nfgenmsg,
// then a prefix TLV and the payload TLV, little-endian and padded.
func nflogRecord(ip []byte) []byte {
	b := []byte{2, 0, 0x13, 0x88}
	tlv := func(typ uint16, v []byte) {
		b = binary.LittleEndian.AppendUint16(b, uint16(4+len(v)))
		b = binary.LittleEndian.AppendUint16(b, typ)
		b = append(b, v...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	tlv(10, []byte("bench\x00"))
	tlv(nflogPayload, ip)
	return b
}

func pcapFile(linkType uint32, pkts [][]byte) []byte {
	b := binary.LittleEndian.AppendUint32(nil, 0xA1B2C3D4)
	b = binary.LittleEndian.AppendUint16(b, 2)
	b = binary.LittleEndian.AppendUint16(b, 4)
	b = append(b, make([]byte, 8)...)
	b = binary.LittleEndian.AppendUint32(b, 262144)
	b = binary.LittleEndian.AppendUint32(b, linkType)
	for _, p := range pkts {
		b = append(b, make([]byte, 8)...)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p)))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return b
}

func block(typ uint32, body []byte) []byte {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	n := uint32(12 + len(body))
	b := binary.LittleEndian.AppendUint32(nil, typ)
	b = binary.LittleEndian.AppendUint32(b, n)
	b = append(b, body...)
	return binary.LittleEndian.AppendUint32(b, n)
}

func pcapngFile(linkType uint16, pkts [][]byte) []byte {
	shb := binary.LittleEndian.AppendUint32(nil, bomMagic)
	shb = binary.LittleEndian.AppendUint16(shb, 1)
	shb = binary.LittleEndian.AppendUint16(shb, 0)
	shb = binary.LittleEndian.AppendUint64(shb, ^uint64(0))
	b := block(blockSHB, shb)
	idb := binary.LittleEndian.AppendUint16(nil, linkType)
	idb = append(idb, 0, 0)
	idb = binary.LittleEndian.AppendUint32(idb, 0)
	b = append(b, block(blockIDB, idb)...)
	for i, p := range pkts {
		if i == 1 { // an SPB among EPBs, as some writers use
			spb := binary.LittleEndian.AppendUint32(nil, uint32(len(p)))
			b = append(b, block(blockSPB, append(spb, p...))...)
			continue
		}
		epb := make([]byte, 12)
		epb = binary.LittleEndian.AppendUint32(epb, uint32(len(p)))
		epb = binary.LittleEndian.AppendUint32(epb, uint32(len(p)))
		b = append(b, block(blockEPB, append(epb, p...))...)
	}
	isb := make([]byte, 12)
	return append(b, block(5, isb)...)
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadCaptureAndVerify(t *testing.T) {
	const size = 100
	var raw, nf [][]byte
	for _, seq := range []uint64{0, 1, 3, 3, 7} { // 3 twice, 7 never sent
		raw = append(raw, udpIPv4(seq, size))
		nf = append(nf, nflogRecord(udpIPv4(seq, size)))
	}
	for _, tc := range []struct {
		name string
		file []byte
	}{
		{"pcap-nflog", pcapFile(linkNFLOG, nf)},
		{"pcap-raw", pcapFile(linkRaw, raw)},
		{"pcapng-nflog", pcapngFile(linkNFLOG, nf)},
		{"pcapng-raw", pcapngFile(linkRaw, raw)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier(5, size)
			n, err := readCapture(writeTemp(t, tc.name, tc.file), v.packet)
			if err != nil {
				t.Fatal(err)
			}
			if n != 5 || v.ok != 3 || v.dups != 1 || v.outRange != 1 || v.unparsed != 0 || v.badFill != 0 {
				t.Fatalf("n=%d %+v", n, v)
			}
			if got := v.missing(); !strings.Contains(got, "2 sequence numbers missing in 2 runs") || !strings.Contains(got, "2-2, 4-4") {
				t.Errorf("missing() = %q", got)
			}
			if v.problems() == "" {
				t.Error("problems() reports nothing for a duplicate and an unsent packet")
			}
		})
	}
}

func TestReadCaptureTruncated(t *testing.T) {
	f := pcapFile(linkRaw, [][]byte{udpIPv4(0, 64), udpIPv4(1, 64)})
	n, err := readCapture(writeTemp(t, "t.pcap", f[:len(f)-10]), func(uint16, []byte) {})
	if err == nil || n != 1 {
		t.Fatalf("n=%d err=%v, want 1 and an error", n, err)
	}
}

func TestVerifierCorruptPayload(t *testing.T) {
	v := newVerifier(1, 64)
	p := udpIPv4(0, 64) // seq 0 is sampled
	p[len(p)-1]++
	v.packet(linkRaw, p)
	if v.badFill != 1 {
		t.Fatalf("badFill = %d", v.badFill)
	}
}

// TestReadCaptureTshark cross-checks the reader against tshark on a file the
// real tshark tooling writes, when it is installed.
func TestReadCaptureTshark(t *testing.T) {
	if _, err := exec.LookPath("editcap"); err != nil {
		t.Skip("editcap not installed")
	}
	src := writeTemp(t, "in.pcap", pcapFile(linkNFLOG, [][]byte{nflogRecord(udpIPv4(0, 64)), nflogRecord(udpIPv4(1, 64))}))
	dst := filepath.Join(t.TempDir(), "out.pcapng")
	if out, err := exec.Command("editcap", "-F", "pcapng", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("editcap: %v: %s", err, out)
	}
	v := newVerifier(2, 64)
	n, err := readCapture(dst, v.packet)
	if err != nil || n != 2 || v.ok != 2 {
		t.Fatalf("n=%d ok=%d err=%v", n, v.ok, err)
	}
}
