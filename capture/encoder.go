package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/nflogcap/nflogcap/internal/escape"
	"github.com/nflogcap/nflogcap/nflog"
	"github.com/nflogcap/nflogcap/pcapng"
)

// DefaultMaxInterfaces caps the interfaces (group, prefix, link type) of one
// file, so a flood of distinct prefixes cannot grow memory without bound.
const DefaultMaxInterfaces = 1024

// encoderConfig is what an encoder needs to know about the capture.
type encoderConfig struct {
	linkType      pcapng.LinkType // what the user asked for
	comments      bool            // write the metadata comment
	maxInterfaces int
	copyMode      nflog.CopyMode
	snaplen       int // as configured; 0 = whole packet
	names         interfaceNamer
	os            string // if_os of every interface
}

// encoder turns events into blocks of one pcapng section (one file, or one
// live stream). It holds every buffer it needs, so encoding a packet does
// not allocate; only a new interface does.
type encoder struct {
	cfg      *encoderConfig
	w        *pcapng.Writer
	ifaces   map[string]int // key: group, link type, prefix
	overflow map[pcapng.LinkType]int
	key      []byte
	comment  []byte         // the last comment; its first headLen bytes are its head
	headLen  int            // see commentHeadKey
	headKey  commentHeadKey // what the head was built for
	haveHead bool
	// The previous packet's interface: a flow's packets skip building the
	// key and the map lookup.
	lastGroup  uint16
	lastLT     pcapng.LinkType
	lastPrefix []byte
	lastID     int
	sll2       [sll2HeaderLen]byte
	pkt        pcapng.Packet
	sum        fileSummary
}

// fileSummary is what the manifest records of a file.
type fileSummary struct {
	packets, lost, overflowed uint64
	first, last               int64 // packet timestamps, ns since the epoch
	seqFirst, seqLast         uint32
	hasSeq, multiGroup        bool
	group                     uint16
}

func newEncoder(cfg *encoderConfig, w *pcapng.Writer) *encoder {
	return &encoder{
		cfg:        cfg,
		w:          w,
		ifaces:     make(map[string]int),
		overflow:   make(map[pcapng.LinkType]int),
		key:        make([]byte, 0, 256),
		comment:    make([]byte, 0, 512),
		lastPrefix: make([]byte, 0, 128),
		lastID:     -1,
	}
}

// write encodes one event.
func (e *encoder) write(ev *nflog.Event) error {
	lt := e.cfg.linkType
	if lt == pcapng.LinkTypeRaw && !rawCarries(ev) {
		lt = pcapng.LinkTypeLinuxSLL2 // ARP, bridge, netdev, metadata only
	}
	id, overflowed, err := e.iface(ev, lt)
	if err != nil {
		return err
	}
	p := &e.pkt
	p.Interface = id
	ts := ev.Time.UnixNano()
	p.Timestamp = ts
	p.LinkHeader = nil
	p.OriginalLength = 0
	switch lt {
	case pcapng.LinkTypeNFLOG:
		// The original length stays the captured length, as libpcap writes
		// it, even when the snaplen cut the payload: Wireshark's NFLOG
		// dissector walks the TLVs up to the original length, so with more
		// bytes "on the wire" than captured it stops at the cut ("Packet
		// size limited during capture: NFLOG truncated") before it hands the
		// payload to the IP dissector, and the cut packet loses its IP and
		// transport layers (measured with tshark 4.0.17; see
		// TestEncoderNFLOGCutKeepsDissection). The IP header inside still
		// tells the length on the wire.
		p.Data = ev.Raw
	case pcapng.LinkTypeLinuxSLL2:
		putSLL2(&e.sll2, ev)
		p.LinkHeader = e.sll2[:]
		p.Data = ev.Payload
		if n, ok := ipTotalLength(ev.Payload); ok && (ev.HWProtocol == 0x0800 || ev.HWProtocol == 0x86dd) {
			p.OriginalLength = sll2HeaderLen + n
		}
	default:
		p.Data = ev.Payload
		if n, ok := ipTotalLength(ev.Payload); ok {
			p.OriginalLength = n
		}
	}
	switch ev.Direction() {
	case nflog.DirInbound:
		p.Flags = pcapng.FlagInbound
	case nflog.DirOutbound:
		p.Flags = pcapng.FlagOutbound
	default:
		p.Flags = 0
	}
	p.PacketID, p.HasPacketID = uint64(ev.Seq), ev.Has(nflog.AttrSeq)
	p.DropCount = ev.LostBefore
	p.Comment = nil
	if e.cfg.comments || overflowed {
		var gen uint64
		if e.cfg.names != nil {
			gen = e.cfg.names.generation()
		}
		if !e.haveHead || !e.headKey.matches(ev, gen) {
			e.comment = appendCommentHead(e.comment[:0], ev, e.cfg.names)
			e.headLen = len(e.comment)
			e.headKey, e.haveHead = makeCommentHeadKey(ev, gen), true
		}
		if hasCommentTail(ev, overflowed) {
			e.comment = appendCommentTail(e.comment[:e.headLen], ev, overflowed)
			p.Comment = e.comment
		} else {
			p.Comment = e.comment[:e.headLen]
		}
	}
	if err := e.w.WritePacket(p); err != nil {
		return err
	}
	e.sum.add(ev, ts, overflowed)
	return nil
}

// iface returns the interface id for the event's group, prefix and link
// type, describing a new interface on first sight. Past maxInterfaces the
// packet goes to a catch-all interface per link type.
func (e *encoder) iface(ev *nflog.Event, lt pcapng.LinkType) (int, bool, error) {
	if e.lastID >= 0 && ev.Group == e.lastGroup && lt == e.lastLT && bytes.Equal(ev.Prefix, e.lastPrefix) {
		return e.lastID, false, nil
	}
	return e.lookupIface(ev, lt)
}

// lookupIface is iface for a packet not on the previous packet's interface.
func (e *encoder) lookupIface(ev *nflog.Event, lt pcapng.LinkType) (int, bool, error) {
	e.key = binary.BigEndian.AppendUint16(e.key[:0], ev.Group)
	e.key = binary.BigEndian.AppendUint16(e.key, uint16(lt))
	e.key = append(e.key, ev.Prefix...)
	if id, ok := e.ifaces[string(e.key)]; ok {
		e.remember(ev, lt, id)
		return id, false, nil
	}
	if len(e.ifaces) >= e.cfg.maxInterfaces {
		if id, ok := e.overflow[lt]; ok {
			return id, true, nil
		}
		id, err := e.w.AddInterface(&pcapng.Interface{
			LinkType: lt,
			Name:     "nflog:overflow" + e.suffix(lt),
			Description: fmt.Sprintf("packets of groups and prefixes seen after this file reached its limit of %d interfaces; "+
				"each packet's comment names its prefix", e.cfg.maxInterfaces),
			SnapLen: e.snapLen(lt),
			OS:      e.cfg.os,
		})
		if err != nil {
			return 0, false, err
		}
		e.overflow[lt] = id
		return id, true, nil
	}
	name := "nflog:" + strconv.Itoa(int(ev.Group))
	if len(ev.Prefix) > 0 {
		name += ":" + string(appendNamePrefix(nil, ev.Prefix))
	}
	id, err := e.w.AddInterface(&pcapng.Interface{
		LinkType:    lt,
		Name:        name + e.suffix(lt),
		Description: e.describe(ev, lt),
		SnapLen:     e.snapLen(lt),
		OS:          e.cfg.os,
	})
	if err != nil {
		return 0, false, err
	}
	e.ifaces[string(e.key)] = id
	e.remember(ev, lt, id)
	return id, false, nil
}

func (e *encoder) remember(ev *nflog.Event, lt pcapng.LinkType, id int) {
	e.lastGroup, e.lastLT, e.lastID = ev.Group, lt, id
	e.lastPrefix = append(e.lastPrefix[:0], ev.Prefix...)
}

// appendNamePrefix appends a log prefix as it appears in an interface name:
// escaped by internal/escape's rules, and '/' written as \x2f as well (the
// same \xNN form, so the bytes can still be read back). An escaped prefix
// then never contains '/', and no prefix (say "ssh/sll2") can give the name
// of another prefix's fallback interface ("ssh" + suffix).
func appendNamePrefix(b, prefix []byte) []byte {
	for {
		i := bytes.IndexByte(prefix, '/')
		if i < 0 {
			return escape.Append(b, prefix)
		}
		// '/' is ASCII: cutting there splits no UTF-8 sequence that
		// escape.Append would have passed through.
		b = append(escape.Append(b, prefix[:i]), `\x2f`...)
		prefix = prefix[i+1:]
	}
}

// suffix tells apart the fallback interface of a prefix whose packets the
// chosen link type cannot carry. It starts with '/', which appendNamePrefix
// never leaves in a prefix.
func (e *encoder) suffix(lt pcapng.LinkType) string {
	if lt == e.cfg.linkType {
		return ""
	}
	return "/sll2"
}

func (e *encoder) describe(ev *nflog.Event, lt pcapng.LinkType) string {
	prefix := "no log prefix"
	if len(ev.Prefix) > 0 {
		prefix = "log prefix \"" + escape.String(ev.Prefix) + "\""
	}
	var carries string
	switch lt {
	case pcapng.LinkTypeRaw:
		carries = "IPv4/IPv6 packets as raw IP"
	case pcapng.LinkTypeNFLOG:
		carries = "NFLOG messages (nfgenmsg and TLVs, as libpcap's nflog capture writes them)"
	default:
		carries = "packets with a Linux SLL2 header (protocol, interface, direction)"
		if e.cfg.linkType != lt {
			carries += " because raw IP cannot carry them (ARP, bridge, netdev, or no payload)"
		}
	}
	snap := "whole packets"
	switch {
	case e.cfg.copyMode != nflog.CopyPacket:
		snap = "no payload"
	case e.cfg.snaplen > 0:
		snap = "snaplen " + strconv.Itoa(e.cfg.snaplen)
	}
	return fmt.Sprintf("NFLOG group %d, %s; %s; first packet family %s; copy mode %s, %s",
		ev.Group, prefix, carries, ev.Family, e.cfg.copyMode, snap)
}

// snapLen is the IDB's snaplen: the payload limit plus the link header.
func (e *encoder) snapLen(lt pcapng.LinkType) uint32 {
	s := nflog.MaxSnaplen
	if e.cfg.copyMode == nflog.CopyPacket && e.cfg.snaplen > 0 {
		s = e.cfg.snaplen
	}
	switch lt {
	case pcapng.LinkTypeLinuxSLL2:
		s += sll2HeaderLen
	case pcapng.LinkTypeNFLOG:
		return 0 // the message around the payload has no fixed size
	}
	return uint32(s)
}

func (s *fileSummary) add(ev *nflog.Event, ts int64, overflowed bool) {
	if s.packets == 0 {
		s.first = ts
		s.group = ev.Group
	} else if ev.Group != s.group {
		s.multiGroup = true
	}
	s.last = max(s.last, ts)
	s.packets++
	s.lost += ev.LostBefore
	if overflowed {
		s.overflowed++
	}
	if ev.Has(nflog.AttrSeq) && ev.Group == s.group {
		if !s.hasSeq {
			s.seqFirst, s.hasSeq = ev.Seq, true
		}
		s.seqLast = ev.Seq
	}
}
