package pcapng

import "encoding/binary"

// Block types.
const (
	blockSHB = 0x0A0D0D0A // Section Header Block; the same in both byte orders
	blockIDB = 1          // Interface Description Block
	blockISB = 5          // Interface Statistics Block
	blockEPB = 6          // Enhanced Packet Block
)

// byteOrderMagic, read in the section's byte order, identifies that order.
const byteOrderMagic = 0x1A2B3C4D

// Fixed sizes of each block without options or packet data: block type,
// total length, the block's own fields and the trailing total length.
const (
	shbFixed = 28 // + magic, version, section length
	idbFixed = 20 // + link type, reserved, snaplen
	isbFixed = 24 // + interface id, timestamp
	epbFixed = 32 // + interface id, timestamp, captured and original length
)

// tsResolNanoseconds is if_tsresol for 10^-9 s; every interface uses it so
// that Packet.Timestamp is written as given.
const tsResolNanoseconds = 9

// isbOptionsSize is the options of every ISB: isb_starttime, isb_endtime,
// isb_ifrecv, isb_ifdrop, isb_usrdeliv (12 bytes each) and opt_endofopt.
const isbOptionsSize = 5*12 + 4

// putBlockEnds writes the block type and the total length at both ends of b,
// which is exactly one block long.
func putBlockEnds(b []byte, typ uint32) {
	binary.NativeEndian.PutUint32(b, typ)
	binary.NativeEndian.PutUint32(b[4:], uint32(len(b)))
	binary.NativeEndian.PutUint32(b[len(b)-4:], uint32(len(b)))
}

// section holds the SHB options.
type section struct {
	comment, hardware, os, application string
}

func (s *section) size() int {
	opts := optionSize(len(s.comment)) + optionSize(len(s.hardware)) +
		optionSize(len(s.os)) + optionSize(len(s.application))
	if opts > 0 {
		opts += 4
	}
	return shbFixed + opts
}

// put encodes the SHB into b, which is s.size() bytes long. The section
// length is -1 (unknown): the Writer streams and never seeks back.
func (s *section) put(b []byte) {
	putBlockEnds(b, blockSHB)
	binary.NativeEndian.PutUint32(b[8:], byteOrderMagic)
	binary.NativeEndian.PutUint16(b[12:], 1) // major version
	binary.NativeEndian.PutUint16(b[14:], 0) // minor version
	binary.NativeEndian.PutUint64(b[16:], ^uint64(0))
	o := b[24 : len(b)-4]
	if len(o) == 0 {
		return
	}
	n := putOption(o, optComment, s.comment)
	n += putOption(o[n:], shbHardware, s.hardware)
	n += putOption(o[n:], shbOS, s.os)
	n += putOption(o[n:], shbUserAppl, s.application)
	putEndOfOptions(o[n:])
}

// filterSize is the size of the if_filter value: a type byte (0, a libpcap
// filter string) and the string.
func filterSize(filter string) int {
	if filter == "" {
		return 0
	}
	return 1 + len(filter)
}

func idbSize(ifc *Interface) int {
	return idbFixed + optionSize(len(ifc.Comment)) + optionSize(len(ifc.Name)) +
		optionSize(len(ifc.Description)) + optionSize(1) + optionSize(filterSize(ifc.Filter)) +
		optionSize(len(ifc.OS)) + optionSize(len(ifc.Hardware)) + 4
}

// putIDB encodes the IDB for ifc into b, which is idbSize(ifc) bytes long.
// Options go in ascending code order.
func putIDB(b []byte, ifc *Interface) {
	putBlockEnds(b, blockIDB)
	binary.NativeEndian.PutUint16(b[8:], uint16(ifc.LinkType))
	binary.NativeEndian.PutUint16(b[10:], 0) // reserved
	binary.NativeEndian.PutUint32(b[12:], ifc.SnapLen)
	o := b[16 : len(b)-4]
	n := putOption(o, optComment, ifc.Comment)
	n += putOption(o[n:], ifName, ifc.Name)
	n += putOption(o[n:], ifDescription, ifc.Description)
	n += putOption(o[n:], ifTsresol, []byte{tsResolNanoseconds})
	if ifc.Filter != "" {
		binary.NativeEndian.PutUint16(o[n:], ifFilter)
		binary.NativeEndian.PutUint16(o[n+2:], uint16(filterSize(ifc.Filter)))
		o[n+4] = 0 // libpcap filter string
		end := n + optionSize(filterSize(ifc.Filter))
		clear(o[n+5+copy(o[n+5:], ifc.Filter) : end])
		n = end
	}
	n += putOption(o[n:], ifOS, ifc.OS)
	n += putOption(o[n:], ifHardware, ifc.Hardware)
	putEndOfOptions(o[n:])
}

// interfaceStats is what the Writer counts per interface for its ISB.
type interfaceStats struct {
	snapLen uint32
	packets uint64 // packets written
	drops   uint64 // epb_dropcount values plus AddDrops, saturating
}

// putISB encodes the ISB for interface id into b, which is
// isbFixed+isbOptionsSize bytes long. Times are in nanoseconds, the
// resolution of every interface.
func putISB(b []byte, id int, st *interfaceStats, start, end uint64) {
	putBlockEnds(b, blockISB)
	binary.NativeEndian.PutUint32(b[8:], uint32(id))
	putTimestamp(b[12:], end)
	o := b[20 : len(b)-4]
	n := putTimestampOption(o, isbStartTime, start)
	n += putTimestampOption(o[n:], isbEndTime, end)
	n += putUint64Option(o[n:], isbIfRecv, addSaturating(st.packets, st.drops))
	n += putUint64Option(o[n:], isbIfDrop, st.drops)
	n += putUint64Option(o[n:], isbUsrDeliv, st.packets)
	putEndOfOptions(o[n:])
}

// addSaturating returns a+b, or the largest uint64 if the sum overflows: a
// counter that sticks at its maximum is less wrong than one that wraps.
func addSaturating(a, b uint64) uint64 {
	if s := a + b; s >= a {
		return s
	}
	return ^uint64(0)
}
