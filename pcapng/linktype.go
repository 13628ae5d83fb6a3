package pcapng

// LinkType is the LINKTYPE_ value of an interface: it tells readers how to
// decode the bytes of each packet (https://www.tcpdump.org/linktypes.html).
// Any value may be used; these are the ones the project writes.
type LinkType uint16

const (
	// LinkTypeRaw is LINKTYPE_RAW: a bare IPv4 or IPv6 packet, told apart by
	// the version nibble of the first byte.
	LinkTypeRaw LinkType = 101
	// LinkTypeNFLOG is LINKTYPE_NFLOG: the nfgenmsg header followed by the
	// NFLOG TLVs, as libpcap's nflog capture writes them. The TLV length and
	// type fields are in the capturing host's byte order, which is the order
	// the Writer uses: attributes go in as the kernel delivered them.
	// (Wireshark converts them when it reads a file of the other order.)
	LinkTypeNFLOG LinkType = 239
	// LinkTypeLinuxSLL2 is LINKTYPE_LINUX_SLL2: a 20-byte header (protocol,
	// interface index, hardware type, packet type, address) before the
	// payload.
	LinkTypeLinuxSLL2 LinkType = 276
)
