package nflog

import (
	"fmt"
	"math"
	"os"
	"strings"
	"time"
)

// CopyMode says how much of each packet the kernel copies to the listener.
type CopyMode uint8

const (
	// CopyMeta copies metadata only (hook, interfaces, mark, prefix, ...).
	// It is the zero value and the library default.
	CopyMeta CopyMode = iota
	// CopyNone is the kernel's NFULNL_COPY_NONE. On current kernels it
	// delivers the same as CopyMeta.
	CopyNone
	// CopyPacket copies metadata and the packet, up to Config.Snaplen bytes.
	CopyPacket
)

func (m CopyMode) String() string {
	switch m {
	case CopyMeta:
		return "meta"
	case CopyNone:
		return "none"
	case CopyPacket:
		return "packet"
	}
	return fmt.Sprintf("CopyMode(%d)", uint8(m))
}

// kernel returns the NFULNL_COPY_* value.
func (m CopyMode) kernel() uint8 {
	switch m {
	case CopyNone:
		return 0
	case CopyPacket:
		return 2
	}
	return 1
}

// Flag is a bit of the group's NFULA_CFG_FLAGS.
type Flag uint16

const (
	// FlagSeq numbers each packet of the group (NFULA_SEQ), from 0. Gaps are
	// lost packets, which the listener counts exactly.
	FlagSeq Flag = 0x1
	// FlagSeqGlobal adds the namespace-wide sequence number (NFULA_SEQ_GLOBAL),
	// shared by all groups; its gaps are not this group's losses.
	FlagSeqGlobal Flag = 0x2
	// FlagConntrack adds the packet's conntrack entry (NFULA_CT, NFULA_CT_INFO).
	// The kernel needs nf_conntrack_netlink for it.
	FlagConntrack Flag = 0x4

	allFlags = FlagSeq | FlagSeqGlobal | FlagConntrack
)

func (f Flag) String() string {
	var names []string
	for _, x := range []struct {
		f    Flag
		name string
	}{{FlagSeq, "seq"}, {FlagSeqGlobal, "seq-global"}, {FlagConntrack, "conntrack"}} {
		if f&x.f != 0 {
			names = append(names, x.name)
			f &^= x.f
		}
	}
	if f != 0 {
		names = append(names, fmt.Sprintf("%#x", uint16(f)))
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ",")
}

// Family is a netfilter protocol family (the nfgenmsg family of a message).
type Family uint8

const (
	FamilyIPv4   Family = 2
	FamilyARP    Family = 3
	FamilyNetdev Family = 5
	FamilyBridge Family = 7
	FamilyIPv6   Family = 10
)

func (f Family) String() string {
	switch f {
	case FamilyIPv4:
		return "ipv4"
	case FamilyARP:
		return "arp"
	case FamilyNetdev:
		return "netdev"
	case FamilyBridge:
		return "bridge"
	case FamilyIPv6:
		return "ipv6"
	}
	return fmt.Sprintf("family(%d)", uint8(f))
}

// Limits of the kernel's interface, checked before anything is sent.
const (
	// MaxSnaplen is the largest copy range the kernel accepts: a netlink
	// attribute's 16-bit length minus its 4-byte header.
	MaxSnaplen = 0xFFFF - 4
	// MaxQThresh is the largest queue threshold this package accepts.
	MaxQThresh = 1024
	// MinNLBufSize and MaxNLBufSize bound NLBUFSIZ. The kernel ignores values
	// outside NLMSG_GOODSIZE..128 KiB while acknowledging success, so the
	// listener clamps to this range instead. NLMSG_GOODSIZE is a page (at
	// most 8 KiB) minus the skb overhead, so MinNLBufSize, one 4 KiB page,
	// is the lower bound on systems with 4 KiB pages; elsewhere Listen uses
	// the page size, capped at 8 KiB.
	MinNLBufSize = 4096
	MaxNLBufSize = 131072
	// DefaultRcvBuf is the default socket receive buffer.
	DefaultRcvBuf = 4 << 20
	// timeoutUnit is the kernel's unit for NFULA_CFG_TIMEOUT.
	timeoutUnit = 10 * time.Millisecond
)

// Config configures a Listener. A nil *Config is invalid because Group is
// required; every other zero field means the default documented on it.
type Config struct {
	// Group is the NFLOG group to bind, 1..65535. Required. By convention 5000
	// is "a group of my own".
	Group int

	// NetNS selects the network namespace whose NFLOG group is bound: a name
	// under /run/netns (as ip-netns(8) makes), or a path to a namespace file
	// such as /proc/PID/ns/net. Empty means the caller's namespace.
	NetNS string

	// NetNSFD, when non-zero, is an open namespace file descriptor; it takes
	// precedence over NetNS. The listener does not close it.
	NetNSFD int

	// CopyMode says what the kernel copies: CopyMeta (default), CopyNone or
	// CopyPacket.
	CopyMode CopyMode

	// Snaplen is the most bytes of each packet copied with CopyPacket,
	// 0..MaxSnaplen (65531); 0 means the whole packet (up to 65531). It must
	// be 0 with the other copy modes.
	Snaplen int

	// QThresh is how many packets the kernel batches into one datagram before
	// sending, 1..1024; 0 means the default, 1 (each packet is sent at once).
	// Per-rule thresholds (iptables --nflog-threshold) can only lower it.
	QThresh int

	// Timeout is how long the kernel holds a partial batch before sending it.
	// The kernel counts in 10 ms units; other values round up. Default 0: no
	// time-based batching, which with QThresh > 1 does not mean "wait for a
	// full batch": the kernel arms its flush timer for "now", so a partial
	// batch leaves at the next timer tick (1 to 10 ms by CONFIG_HZ; measured
	// 3.5 ms with HZ=250 on Linux 6.18). Sparse traffic is never held back.
	Timeout time.Duration

	// NLBufSize is the kernel's per-batch buffer (NFULA_CFG_NLBUFSIZ) in bytes.
	// 0 means automatic: MaxNLBufSize (128 KiB) when QThresh > 1, otherwise
	// the kernel's default (about one page). Other values are clamped to the
	// page size (MinNLBufSize with 4 KiB pages, at most 8 KiB)..MaxNLBufSize,
	// because the kernel silently ignores values outside its range.
	NLBufSize int

	// Flags are NFULA_CFG_FLAGS: FlagSeq, FlagSeqGlobal, FlagConntrack.
	Flags Flag

	// Families are the protocol families for which the listener sends PF_BIND,
	// which makes nfnetlink_log the namespace's default logger for them.
	// nil means IPv4 and IPv6, as the reference design does; an empty non-nil
	// slice sends no PF_BIND (nft `log group N` and iptables NFLOG do not need
	// it on current kernels). Allowed: FamilyIPv4, FamilyIPv6, FamilyBridge,
	// FamilyARP.
	Families []Family

	// RcvBuf is the socket receive buffer in bytes; default DefaultRcvBuf
	// (4 MiB). It is set with SO_RCVBUFFORCE, falling back to SO_RCVBUF (capped
	// by net.core.rmem_max) without CAP_NET_ADMIN. Stats.RcvBuf reports what
	// was obtained.
	RcvBuf int

	// RcvBufMax, when larger than RcvBuf, lets the listener double the
	// receive buffer on each ENOBUFS until it reaches RcvBufMax. The growth is
	// reported in the OverrunError and in Stats. 0 means a fixed buffer.
	RcvBufMax int
}

// ConfigError reports an invalid Config field. It is returned before anything
// is sent to the kernel.
type ConfigError struct {
	Field   string // Config field name, e.g. "Group"
	Value   any    // the rejected value
	Allowed string // what would be accepted
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("nflog: invalid Config.%s %v: %s", e.Field, e.Value, e.Allowed)
}

// Validate checks c and returns a *ConfigError naming the first bad field.
func (c *Config) Validate() error {
	if c == nil {
		return &ConfigError{Field: "Group", Value: "(nil Config)", Allowed: "a Config with Group 1..65535 is required"}
	}
	if c.Group < 1 || c.Group > 65535 {
		return &ConfigError{"Group", c.Group, "allowed 1..65535"}
	}
	switch c.CopyMode {
	case CopyMeta, CopyNone, CopyPacket:
	default:
		return &ConfigError{"CopyMode", c.CopyMode, "allowed CopyMeta, CopyNone, CopyPacket"}
	}
	if c.Snaplen < 0 || c.Snaplen > MaxSnaplen {
		return &ConfigError{"Snaplen", c.Snaplen, fmt.Sprintf("allowed 0..%d (0 = whole packet)", MaxSnaplen)}
	}
	if c.Snaplen != 0 && c.CopyMode != CopyPacket {
		return &ConfigError{"Snaplen", c.Snaplen, "a snaplen needs CopyMode CopyPacket"}
	}
	if c.QThresh < 0 || c.QThresh > MaxQThresh {
		return &ConfigError{"QThresh", c.QThresh, fmt.Sprintf("allowed 1..%d (0 = default 1)", MaxQThresh)}
	}
	if c.Timeout < 0 {
		return &ConfigError{"Timeout", c.Timeout, "must not be negative"}
	}
	if units := (c.Timeout + timeoutUnit - 1) / timeoutUnit; units > math.MaxUint32 {
		return &ConfigError{"Timeout", c.Timeout, "too long for the kernel (10 ms units in 32 bits)"}
	}
	if c.NLBufSize < 0 {
		return &ConfigError{"NLBufSize", c.NLBufSize, fmt.Sprintf("allowed %d..%d (0 = automatic; others are clamped)", minNLBufSize(), MaxNLBufSize)}
	}
	if c.Flags&^allFlags != 0 {
		return &ConfigError{"Flags", fmt.Sprintf("%#x", uint16(c.Flags)), "allowed FlagSeq, FlagSeqGlobal, FlagConntrack"}
	}
	for _, f := range c.Families {
		switch f {
		case FamilyIPv4, FamilyIPv6, FamilyBridge, FamilyARP:
		default:
			return &ConfigError{"Families", f, "allowed FamilyIPv4, FamilyIPv6, FamilyBridge, FamilyARP"}
		}
	}
	if c.RcvBuf < 0 || c.RcvBuf > math.MaxInt32/2 {
		return &ConfigError{"RcvBuf", c.RcvBuf, "allowed 1 byte..1 GiB (0 = 4 MiB)"}
	}
	if c.RcvBufMax < 0 || c.RcvBufMax > math.MaxInt32/2 {
		return &ConfigError{"RcvBufMax", c.RcvBufMax, "allowed 0 (fixed) or up to 1 GiB"}
	}
	if c.NetNS != "" && c.NetNSFD != 0 {
		return &ConfigError{"NetNS", c.NetNS, "set NetNS or NetNSFD, not both"}
	}
	return nil
}

// withDefaults returns a copy of a valid c with every default filled in.
func (c *Config) withDefaults() Config {
	n := *c
	if n.QThresh == 0 {
		n.QThresh = 1
	}
	if n.Families == nil {
		n.Families = []Family{FamilyIPv4, FamilyIPv6}
	} else {
		n.Families = append([]Family(nil), n.Families...)
	}
	if n.RcvBuf == 0 {
		n.RcvBuf = DefaultRcvBuf
	}
	switch {
	case n.NLBufSize == 0 && n.QThresh > 1:
		n.NLBufSize = MaxNLBufSize
	case n.NLBufSize == 0:
	case n.NLBufSize < minNLBufSize():
		n.NLBufSize = minNLBufSize()
	case n.NLBufSize > MaxNLBufSize:
		n.NLBufSize = MaxNLBufSize
	}
	return n
}

// minNLBufSize is the lower clamp of NLBUFSIZ on this system, computed at
// Listen time: the kernel's bound, NLMSG_GOODSIZE, is
// SKB_WITH_OVERHEAD(min(page size, 8192)), a little below it.
func minNLBufSize() int { return min(os.Getpagesize(), 8192) }

// timeoutUnits converts Timeout to the kernel's 10 ms units, rounding up.
func (c *Config) timeoutUnits() uint32 {
	return uint32((c.Timeout + timeoutUnit - 1) / timeoutUnit)
}
