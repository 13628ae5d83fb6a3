//go:build linux

package main

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/nflogcap/nflogcap/internal/loadgen"
)

// Link types the capture tools write (tcpdump.org/linktypes.html).
const (
	linkEthernet = 1
	linkRawOld   = 12 // DLT_RAW on Linux, written by some older tools
	linkRaw      = 101
	linkSLL      = 113
	linkIPv4     = 228
	linkIPv6     = 229
	linkNFLOG    = 239
	linkSLL2     = 276
	nflogPayload = 9 // NFULA_PAYLOAD
	udpProto     = 17
	benchPort    = 9
)

// verifier checks that each captured packet is one the sender sent: a UDP
// datagram to the bench port whose payload has the right size, an in-range
// sequence number not seen before, and (on a sample) the fill pattern.
type verifier struct {
	size      int
	sent      uint64
	seen      []uint64 // bitmap of sequence numbers
	ok        int64
	unparsed  int64 // not a UDP datagram to the bench port, or link type unknown
	badSize   int64
	outRange  int64
	dups      int64
	badFill   int64
	sampled   int64
	linkTypes map[uint16]int64
}

// sampleEvery sets how often the fill pattern is compared; checking every
// byte of a gigabyte capture would dominate the harness's own run time.
const sampleEvery = 61

func newVerifier(sent, size int) *verifier {
	return &verifier{size: size, sent: uint64(sent), seen: make([]uint64, (sent+63)/64), linkTypes: map[uint16]int64{}}
}

func (v *verifier) packet(linkType uint16, data []byte) {
	v.linkTypes[linkType]++
	p, ok := udpPayload(linkType, data)
	if !ok {
		v.unparsed++
		return
	}
	if len(p) != v.size {
		v.badSize++
	}
	seq, ok := loadgen.Seq(p)
	switch {
	case !ok || seq >= v.sent:
		v.outRange++
		return
	case v.seen[seq/64]&(1<<(seq%64)) != 0:
		v.dups++
		return
	}
	v.seen[seq/64] |= 1 << (seq % 64)
	v.ok++
	if seq%sampleEvery == 0 {
		v.sampled++
		if !loadgen.CheckPattern(p) {
			v.badFill++
		}
	}
}

// problems describes everything that is not a clean capture, or "" when clean.
func (v *verifier) problems() string {
	var s []string
	for _, p := range []struct {
		n    int64
		what string
	}{
		{v.unparsed, "not parsed as a bench UDP datagram"},
		{v.badSize, "with the wrong payload size"},
		{v.outRange, "with a sequence number never sent"},
		{v.dups, "duplicated"},
		{v.badFill, "of the sampled with a corrupt payload"},
	} {
		if p.n > 0 {
			s = append(s, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	if len(s) == 0 {
		return ""
	}
	var lt []string
	for t, n := range v.linkTypes {
		lt = append(lt, fmt.Sprintf("%d×%d", n, t))
	}
	return "packets " + strings.Join(s, ", ") + " (link types " + strings.Join(lt, " ") + ")"
}

// missing summarises the sequence numbers never seen, to tell a lost tail
// (packets still queued when the tool stopped) from losses during the flood.
func (v *verifier) missing() string {
	var (
		runs, total, largest uint64
		shown                []string
	)
	for seq := uint64(0); seq < v.sent; {
		if v.seen[seq/64]&(1<<(seq%64)) != 0 {
			seq++
			continue
		}
		start := seq
		for seq < v.sent && v.seen[seq/64]&(1<<(seq%64)) == 0 {
			seq++
		}
		runs++
		total += seq - start
		largest = max(largest, seq-start)
		if len(shown) < 3 {
			shown = append(shown, fmt.Sprintf("%d-%d", start, seq-1))
		}
	}
	if runs == 0 {
		return ""
	}
	if runs > uint64(len(shown)) {
		shown = append(shown, "...")
	}
	return fmt.Sprintf("%d sequence numbers missing in %d runs (largest %d): %s", total, runs, largest, strings.Join(shown, ", "))
}

// udpPayload finds the UDP payload of a bench datagram in a captured packet.
func udpPayload(linkType uint16, data []byte) ([]byte, bool) {
	var ip []byte
	switch linkType {
	case linkRaw, linkRawOld, linkIPv4, linkIPv6:
		ip = data
	case linkSLL2:
		ip = skip(data, 20)
	case linkSLL:
		ip = skip(data, 16)
	case linkEthernet:
		ip = skip(data, 14)
	case linkNFLOG:
		ip = nflogPayloadTLV(data)
	}
	return ipUDPPayload(ip)
}

func skip(b []byte, n int) []byte {
	if len(b) < n {
		return nil
	}
	return b[n:]
}

// nflogPayloadTLV returns the NFULA_PAYLOAD value of an NFLOG (239) record: a
// 4-byte nfgenmsg, then TLVs whose length and type are in the capturing host's
// byte order (little-endian on the machines this harness runs on) and padded to 4.
func nflogPayloadTLV(b []byte) []byte {
	if len(b) < 4 {
		return nil
	}
	for b = b[4:]; len(b) >= 4; {
		n := int(binary.LittleEndian.Uint16(b))
		typ := binary.LittleEndian.Uint16(b[2:]) & 0x3fff
		if n < 4 || n > len(b) {
			return nil
		}
		if typ == nflogPayload {
			return b[4:n]
		}
		b = b[min(len(b), (n+3)&^3):]
	}
	return nil
}

// ipUDPPayload returns the payload of an IPv4 or IPv6 UDP datagram to the bench port.
func ipUDPPayload(ip []byte) ([]byte, bool) {
	if len(ip) < 1 {
		return nil, false
	}
	var udp []byte
	switch ip[0] >> 4 {
	case 4:
		ihl := int(ip[0]&0x0f) * 4
		if ihl < 20 || len(ip) < ihl+8 || ip[9] != udpProto {
			return nil, false
		}
		udp = ip[ihl:]
	case 6:
		if len(ip) < 48 || ip[6] != udpProto {
			return nil, false
		}
		udp = ip[40:]
	default:
		return nil, false
	}
	if binary.BigEndian.Uint16(udp[2:4]) != benchPort {
		return nil, false
	}
	// The UDP length, not the captured length, says where the payload ends
	// (Ethernet padding); a snap length may have cut it short.
	end := min(int(binary.BigEndian.Uint16(udp[4:6])), len(udp))
	if end < 8 {
		return nil, false
	}
	return udp[8:end], true
}
