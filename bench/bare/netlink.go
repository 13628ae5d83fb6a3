//go:build linux

package main

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// Wire constants from include/uapi/linux/netfilter/nfnetlink_log.h; see
// NFLOG-FACTS.md. Written out here because the bare reader must not depend on
// the project's own nflog package: it is the yardstick nflogcap is measured against.
const (
	subsysULOG   = 4
	msgPacket    = subsysULOG<<8 | 0
	msgConfig    = subsysULOG<<8 | 1
	cfgCmd       = 1
	cfgMode      = 2
	cfgNlbufsiz  = 3
	cfgTimeout   = 4
	cfgQthresh   = 5
	cfgFlags     = 6
	cmdBind      = 1
	cmdUnbind    = 2
	copyPacket   = 2
	flagSeq      = 0x1
	attrSeq      = 12
	nlaTypeMask  = 0x3fff // strips NLA_F_NESTED and NLA_F_NET_BYTEORDER
	nlmsgHdrLen  = 16
	nfgenHdrLen  = 4
	copyRangeMax = 0xffff // the kernel caps it at 65531
)

// settings is what the reader asks the kernel for in its one config message.
type settings struct {
	group    uint16
	nlbufsiz uint32
	qthresh  uint32
	timeout  uint32 // 1/100 s
}

// bindMessage builds one config request that binds the group and sets copy
// mode, batch size, threshold, flush timeout and the SEQ flag, with an ACK
// requested so failures are seen.
func bindMessage(s settings, seq uint32) []byte {
	b := header(seq, s.group, unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	b = attr(b, cfgCmd, []byte{cmdBind})
	mode := make([]byte, 6) // packed struct nfulnl_msg_config_mode
	binary.BigEndian.PutUint32(mode, copyRangeMax)
	mode[4] = copyPacket
	b = attr(b, cfgMode, mode)
	b = attr(b, cfgNlbufsiz, be32(s.nlbufsiz))
	b = attr(b, cfgQthresh, be32(s.qthresh))
	b = attr(b, cfgTimeout, be32(s.timeout))
	b = attr(b, cfgFlags, binary.BigEndian.AppendUint16(nil, flagSeq))
	return finish(b)
}

// unbindMessage asks the kernel to flush the pending batch and forget the group.
// No ACK: it would arrive among packet messages and the reader is about to exit.
func unbindMessage(group uint16, seq uint32) []byte {
	b := header(seq, group, unix.NLM_F_REQUEST)
	b = attr(b, cfgCmd, []byte{cmdUnbind})
	return finish(b)
}

func header(seq uint32, group, flags uint16) []byte {
	b := make([]byte, nlmsgHdrLen+nfgenHdrLen, 128)
	binary.NativeEndian.PutUint16(b[4:], msgConfig)
	binary.NativeEndian.PutUint16(b[6:], flags)
	binary.NativeEndian.PutUint32(b[8:], seq)
	b[16] = unix.AF_UNSPEC
	b[17] = 0 // NFNETLINK_V0
	binary.BigEndian.PutUint16(b[18:], group)
	return b
}

func attr(b []byte, typ uint16, val []byte) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(4+len(val)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, val...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func finish(b []byte) []byte {
	binary.NativeEndian.PutUint32(b, uint32(len(b)))
	return b
}

func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// counts is what the reader has seen.
type counts struct {
	packets   uint64 // packet messages
	lost      uint64 // sum of SEQ gaps
	noSeq     uint64 // packet messages without a SEQ attribute
	backwards uint64 // SEQ lower than expected (should never happen)
	enobufs   uint64 // receive-buffer overruns reported by recv
	datagrams uint64
	bytes     uint64
	started   bool
	nextSeq   uint32
}

// parse walks one datagram's netlink messages. It returns an error for a
// netlink error message (a NACK) and for a malformed datagram.
func (c *counts) parse(b []byte) error {
	c.datagrams++
	c.bytes += uint64(len(b))
	for len(b) >= nlmsgHdrLen {
		n := int(binary.NativeEndian.Uint32(b))
		typ := binary.NativeEndian.Uint16(b[4:])
		if n < nlmsgHdrLen || n > len(b) {
			return fmt.Errorf("malformed netlink message: length %d, %d bytes left", n, len(b))
		}
		switch typ {
		case msgPacket:
			c.packet(b[nlmsgHdrLen:n])
		case unix.NLMSG_ERROR:
			if n >= nlmsgHdrLen+4 {
				if errno := int32(binary.NativeEndian.Uint32(b[nlmsgHdrLen:])); errno != 0 {
					return fmt.Errorf("netlink error: %w", unix.Errno(-errno))
				}
			}
		}
		b = b[min(len(b), align4(n)):]
	}
	return nil
}

func (c *counts) packet(m []byte) {
	c.packets++
	if len(m) < nfgenHdrLen {
		c.noSeq++
		return
	}
	for a := m[nfgenHdrLen:]; len(a) >= 4; {
		n := int(binary.NativeEndian.Uint16(a))
		typ := binary.NativeEndian.Uint16(a[2:]) & nlaTypeMask
		if n < 4 || n > len(a) {
			break
		}
		if typ == attrSeq && n >= 8 {
			c.seq(binary.BigEndian.Uint32(a[4:]))
			return
		}
		a = a[min(len(a), align4(n)):]
	}
	c.noSeq++
}

// seq accounts a sequence number. The per-group counter starts at 0 when the
// group is bound, so a first number above 0 means packets lost before it.
func (c *counts) seq(s uint32) {
	switch {
	case !c.started || s > c.nextSeq:
		c.lost += uint64(s - c.nextSeq)
	case s < c.nextSeq:
		c.backwards++
	}
	c.started = true
	c.nextSeq = s + 1
}

func align4(n int) int { return (n + 3) &^ 3 }
