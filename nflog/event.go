package nflog

import "time"

// Attr is a set of NFULA_* attributes, one bit per attribute type, used to
// say which optional fields of an Event the kernel sent.
type Attr uint32

// Attributes of a packet message (include/uapi/linux/netfilter/nfnetlink_log.h).
const (
	AttrPacketHdr  Attr = 1 << 1
	AttrMark       Attr = 1 << 2
	AttrTimestamp  Attr = 1 << 3
	AttrInDev      Attr = 1 << 4
	AttrOutDev     Attr = 1 << 5
	AttrPhysInDev  Attr = 1 << 6
	AttrPhysOutDev Attr = 1 << 7
	AttrHWAddr     Attr = 1 << 8
	AttrPayload    Attr = 1 << 9
	AttrPrefix     Attr = 1 << 10
	AttrUID        Attr = 1 << 11
	AttrSeq        Attr = 1 << 12
	AttrSeqGlobal  Attr = 1 << 13
	AttrGID        Attr = 1 << 14
	AttrHWType     Attr = 1 << 15
	AttrHWHeader   Attr = 1 << 16
	AttrHWLen      Attr = 1 << 17
	AttrCT         Attr = 1 << 18
	AttrCTInfo     Attr = 1 << 19
	AttrVLAN       Attr = 1 << 20
	AttrL2Header   Attr = 1 << 21
)

// TimeSource says where Event.Time came from.
type TimeSource uint8

const (
	// TimeReceived: the time the datagram was read. The kernel sends no
	// timestamp for packets logged in the output and postrouting hooks.
	TimeReceived TimeSource = iota
	// TimeKernel: the kernel's packet timestamp (microsecond resolution).
	TimeKernel
)

func (s TimeSource) String() string {
	if s == TimeKernel {
		return "kernel"
	}
	return "received"
}

// Hook numbers for the inet families (IPv4, IPv6, and bridge's first five).
const (
	HookPrerouting  = 0
	HookInput       = 1
	HookForward     = 2
	HookOutput      = 3
	HookPostrouting = 4
)

// Direction of a packet relative to this host, derived from family and hook.
type Direction uint8

const (
	DirUnknown  Direction = iota // forward, or a hook without a direction
	DirInbound                   // prerouting, input, ARP in, netdev ingress, bridge brouting
	DirOutbound                  // output, postrouting, ARP out, netdev egress
)

// Event is one logged packet. The byte slices point into the listener's
// receive buffer and are valid until the next Receive, Rebind or Close.
type Event struct {
	Family     Family // nfgenmsg family: IPv4, IPv6, ARP, bridge, netdev
	Group      uint16 // NFLOG group (nfgenmsg res_id)
	HWProtocol uint16 // EtherType of the payload (packet header hw_protocol)
	Hook       uint8  // netfilter hook number; see HookName
	Present    Attr   // which attributes the kernel sent

	Time       time.Time  // kernel timestamp when present, else receive time
	TimeSource TimeSource // which of the two Time is

	Mark       uint32
	InDev      uint32 // input interface index (0 = none)
	OutDev     uint32 // output interface index (0 = none)
	PhysInDev  uint32 // bridge port the packet came in on
	PhysOutDev uint32 // bridge port the packet goes out of
	UID, GID   uint32 // owner of the local socket (output path)
	Seq        uint32 // per-group sequence number (FlagSeq)
	SeqGlobal  uint32 // namespace-wide sequence number (FlagSeqGlobal)

	HWAddr   []byte // source link-layer address (up to 8 bytes)
	HWType   uint16 // ARPHRD_* of the input device
	HWLen    uint16 // hard header length of the input device
	HWHeader []byte // the link-layer header
	Prefix   []byte // log prefix, without the kernel's trailing NUL
	Payload  []byte // packet bytes from the network header, up to the snaplen

	CT     []byte // raw nested conntrack attributes (CTA_*)
	CTInfo uint32 // enum ip_conntrack_info; see CTState

	VLANProto uint16 // VLAN TPID, when AttrVLAN is present
	VLANTCI   uint16 // VLAN tag control information
	L2Header  []byte // link-layer header (bridge and netdev families)

	// Raw is the whole message after the netlink header (nfgenmsg and
	// attributes): what libpcap's NFLOG link type (239) carries.
	Raw []byte

	// LostBefore is how many packets of this group the kernel logged but
	// dropped between the previous delivered packet and this one, from the
	// sequence gap. Always 0 without FlagSeq.
	LostBefore uint64
}

// Has reports whether the kernel sent attribute a.
func (e *Event) Has(a Attr) bool { return e.Present&a != 0 }

// Direction derives the packet's direction from its family and hook.
func (e *Event) Direction() Direction {
	switch e.Family {
	case FamilyARP:
		switch e.Hook {
		case 0:
			return DirInbound
		case 1:
			return DirOutbound
		}
	case FamilyNetdev:
		switch e.Hook {
		case 0:
			return DirInbound
		case 1:
			return DirOutbound
		}
	default:
		switch e.Hook {
		case HookPrerouting, HookInput, 5: // 5: bridge brouting
			return DirInbound
		case HookOutput, HookPostrouting:
			return DirOutbound
		}
	}
	return DirUnknown
}

// HookName names the hook the way nft does, per family.
func (e *Event) HookName() string {
	switch e.Family {
	case FamilyARP:
		switch e.Hook {
		case 0:
			return "input"
		case 1:
			return "output"
		case 2:
			return "forward"
		}
	case FamilyNetdev:
		switch e.Hook {
		case 0:
			return "ingress"
		case 1:
			return "egress"
		}
	default:
		switch e.Hook {
		case HookPrerouting:
			return "prerouting"
		case HookInput:
			return "input"
		case HookForward:
			return "forward"
		case HookOutput:
			return "output"
		case HookPostrouting:
			return "postrouting"
		case 5:
			if e.Family == FamilyBridge {
				return "brouting"
			}
		}
	}
	return "unknown"
}

// CTState names the conntrack state from CTInfo ("new", "established",
// "related", "established-reply", "related-reply", "untracked"), or "" when
// the kernel sent none.
func (e *Event) CTState() string {
	if !e.Has(AttrCTInfo) {
		return ""
	}
	switch e.CTInfo {
	case 0:
		return "established"
	case 1:
		return "related"
	case 2:
		return "new"
	case 3:
		return "established-reply"
	case 4:
		return "related-reply"
	case 7:
		return "untracked"
	}
	return "unknown"
}
