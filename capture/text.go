package capture

import (
	"bufio"
	"io"
	"net/netip"
	"strconv"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/nflogcap/nflogcap/internal/escape"
	"github.com/nflogcap/nflogcap/nflog"
)

// textPrinter writes one line per packet, as tcpdump does:
//
//	18:14:09.123456 nflog:5000:ssh-drop In in=eth0 out= IP 10.0.0.1.51234 > 10.0.0.2.22: TCP, length 60
//
// Prefixes and interface names are escaped: nothing from the kernel reaches
// the terminal raw. Decoding reuses its layers, so lines cost no allocation.
type textPrinter struct {
	w       *bufio.Writer
	names   interfaceNamer
	line    []byte
	parsers map[gopacket.LayerType]*gopacket.DecodingLayerParser // by first layer
	decoded []gopacket.LayerType
	ip4     layers.IPv4
	ip6     layers.IPv6
	tcp     layers.TCP
	udp     layers.UDP
	icmp4   layers.ICMPv4
	icmp6   layers.ICMPv6
	arp     layers.ARP
}

func newTextPrinter(w io.Writer, names interfaceNamer) *textPrinter {
	p := &textPrinter{w: bufio.NewWriterSize(w, 64<<10), names: names, line: make([]byte, 0, 256)}
	p.parsers = map[gopacket.LayerType]*gopacket.DecodingLayerParser{}
	for _, first := range []gopacket.LayerType{layers.LayerTypeIPv4, layers.LayerTypeIPv6, layers.LayerTypeARP} {
		dp := gopacket.NewDecodingLayerParser(first, &p.ip4, &p.ip6, &p.tcp, &p.udp, &p.icmp4, &p.icmp6, &p.arp)
		dp.IgnoreUnsupported = true
		p.parsers[first] = dp
	}
	p.decoded = make([]gopacket.LayerType, 0, 4)
	return p
}

func (p *textPrinter) write(ev *nflog.Event) error {
	b := ev.Time.AppendFormat(p.line[:0], "15:04:05.000000")
	b = append(b, " nflog:"...)
	b = strconv.AppendUint(b, uint64(ev.Group), 10)
	if len(ev.Prefix) > 0 {
		b = append(b, ':')
		b = escape.Append(b, ev.Prefix)
	}
	switch ev.Direction() {
	case nflog.DirInbound:
		b = append(b, " In "...)
	case nflog.DirOutbound:
		b = append(b, " Out"...)
	default:
		b = append(b, " Fwd"...)
	}
	b = appendIf(b, " in=", ev.InDev, p.names)
	b = appendIf(b, " out=", ev.OutDev, p.names)
	b = append(b, ' ')
	b = p.appendPayload(b, ev)
	if ev.LostBefore > 0 {
		b = append(b, " ["...)
		b = strconv.AppendUint(b, ev.LostBefore, 10)
		b = append(b, " lost before]"...)
	}
	b = append(b, '\n')
	p.line = b
	_, err := p.w.Write(b)
	return err
}

func (p *textPrinter) flush() error { return p.w.Flush() }

// appendPayload describes the packet: addresses, ports, protocol, length.
func (p *textPrinter) appendPayload(b []byte, ev *nflog.Event) []byte {
	if len(ev.Payload) == 0 {
		b = append(b, "no payload (copy mode meta), proto 0x"...)
		return strconv.AppendUint(b, uint64(ev.HWProtocol), 16)
	}
	first := layers.LayerTypeIPv4
	switch {
	case ev.HWProtocol == 0x0806 || ev.Family == nflog.FamilyARP:
		first = layers.LayerTypeARP
	case ev.Payload[0]>>4 == 6:
		first = layers.LayerTypeIPv6
	case ev.Payload[0]>>4 != 4:
		b = append(b, "proto 0x"...)
		b = strconv.AppendUint(b, uint64(ev.HWProtocol), 16)
		b = append(b, ", length "...)
		return strconv.AppendInt(b, int64(len(ev.Payload)), 10)
	}
	p.decoded = p.decoded[:0]
	p.parsers[first].DecodeLayers(ev.Payload, &p.decoded) // on error, what was decoded stays
	var src, dst netip.Addr
	var length int
	proto := ""
	var sport, dport uint16
	for _, lt := range p.decoded {
		switch lt {
		case layers.LayerTypeARP:
			b = append(b, "ARP, "...)
			if p.arp.Operation == layers.ARPRequest {
				b = append(b, "Request who-has "...)
				b = appendAddr(b, p.arp.DstProtAddress)
				b = append(b, " tell "...)
				b = appendAddr(b, p.arp.SourceProtAddress)
			} else {
				b = append(b, "Reply "...)
				b = appendAddr(b, p.arp.SourceProtAddress)
			}
			b = append(b, ", length "...)
			return strconv.AppendInt(b, int64(len(ev.Payload)), 10)
		case layers.LayerTypeIPv4:
			src, _ = netip.AddrFromSlice(p.ip4.SrcIP)
			dst, _ = netip.AddrFromSlice(p.ip4.DstIP)
			length = int(p.ip4.Length)
			proto = "IP "
		case layers.LayerTypeIPv6:
			src, _ = netip.AddrFromSlice(p.ip6.SrcIP)
			dst, _ = netip.AddrFromSlice(p.ip6.DstIP)
			length = 40 + int(p.ip6.Length)
			proto = "IP6 "
		case layers.LayerTypeTCP:
			sport, dport = uint16(p.tcp.SrcPort), uint16(p.tcp.DstPort)
		case layers.LayerTypeUDP:
			sport, dport = uint16(p.udp.SrcPort), uint16(p.udp.DstPort)
		}
	}
	if proto == "" {
		b = append(b, "undecodable packet, length "...)
		return strconv.AppendInt(b, int64(len(ev.Payload)), 10)
	}
	b = append(b, proto...)
	b = src.AppendTo(b)
	if sport != 0 || dport != 0 {
		b = append(b, '.')
		b = strconv.AppendUint(b, uint64(sport), 10)
	}
	b = append(b, " > "...)
	b = dst.AppendTo(b)
	if sport != 0 || dport != 0 {
		b = append(b, '.')
		b = strconv.AppendUint(b, uint64(dport), 10)
	}
	b = append(b, ": "...)
	b = p.appendTransport(b)
	b = append(b, ", length "...)
	return strconv.AppendInt(b, int64(p.payloadLength(length)), 10)
}

// appendTransport names the highest layer decoded. ICMP types are named
// here rather than by gopacket's TypeCode.String, which formats with fmt.
func (p *textPrinter) appendTransport(b []byte) []byte {
	for i := len(p.decoded) - 1; i >= 0; i-- {
		switch p.decoded[i] {
		case layers.LayerTypeTCP:
			return append(b, "TCP"...)
		case layers.LayerTypeUDP:
			return append(b, "UDP"...)
		case layers.LayerTypeICMPv4:
			tc := p.icmp4.TypeCode
			return appendICMP(append(b, "ICMP "...), icmp4Name(tc.Type()), tc.Type(), tc.Code())
		case layers.LayerTypeICMPv6:
			tc := p.icmp6.TypeCode
			return appendICMP(append(b, "ICMP6 "...), icmp6Name(tc.Type()), tc.Type(), tc.Code())
		}
	}
	switch {
	case len(p.decoded) > 0 && p.decoded[0] == layers.LayerTypeIPv4:
		return strconv.AppendUint(append(b, "proto "...), uint64(p.ip4.Protocol), 10)
	case len(p.decoded) > 0 && p.decoded[0] == layers.LayerTypeIPv6:
		return strconv.AppendUint(append(b, "next header "...), uint64(p.ip6.NextHeader), 10)
	}
	return append(b, "unknown"...)
}

// icmp4Name and icmp6Name name ICMP types as tcpdump does; "" for others.
func icmp4Name(typ uint8) string {
	switch typ {
	case 0:
		return "echo reply"
	case 3:
		return "unreachable"
	case 5:
		return "redirect"
	case 8:
		return "echo request"
	case 11:
		return "time exceeded"
	case 12:
		return "parameter problem"
	}
	return ""
}

func icmp6Name(typ uint8) string {
	switch typ {
	case 1:
		return "unreachable"
	case 2:
		return "packet too big"
	case 3:
		return "time exceeded"
	case 4:
		return "parameter problem"
	case 128:
		return "echo request"
	case 129:
		return "echo reply"
	case 133:
		return "router solicitation"
	case 134:
		return "router advertisement"
	case 135:
		return "neighbor solicitation"
	case 136:
		return "neighbor advertisement"
	}
	return ""
}

// appendICMP writes the type's name, or its number, and a non-zero code.
func appendICMP(b []byte, name string, typ, code uint8) []byte {
	if name != "" {
		b = append(b, name...)
	} else {
		b = strconv.AppendUint(append(b, "type "...), uint64(typ), 10)
	}
	if code != 0 {
		b = strconv.AppendUint(append(b, " code "...), uint64(code), 10)
	}
	return b
}

// payloadLength is what tcpdump calls the length: the transport payload for
// UDP and TCP (from the headers, so a snaplen does not shorten it), else the
// IP packet.
func (p *textPrinter) payloadLength(ipLength int) int {
	for _, lt := range p.decoded {
		switch lt {
		case layers.LayerTypeUDP:
			return max(int(p.udp.Length)-8, 0)
		case layers.LayerTypeTCP:
			hdr := 40 // IPv6
			if p.decoded[0] == layers.LayerTypeIPv4 {
				hdr = int(p.ip4.IHL) * 4
			}
			return max(ipLength-hdr-int(p.tcp.DataOffset)*4, 0)
		}
	}
	return ipLength
}

func appendAddr(b, ip []byte) []byte {
	if a, ok := netip.AddrFromSlice(ip); ok {
		return a.AppendTo(b)
	}
	return append(b, '?')
}
