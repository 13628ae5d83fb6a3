// Package pcapng writes captures in the pcapng format (IETF
// draft-ietf-opsawg-pcapng) for Wireshark, tshark and other readers, and finds
// the intact part of a capture that was cut short.
//
// A Writer encodes blocks into a buffer of its own and hands them to the
// underlying io.Writer in large Write calls. Every Write carries whole blocks
// only, never part of one, so a layer below (file rotation, a pipe) may cut the
// stream between any two Writes and still hold well-formed pcapng.
//
// The output is a single section in the host's byte order (Wireshark requires
// the capturing host's order on pipes). Every interface has nanosecond
// timestamps. Interfaces may be added at any point, also after packets;
// tshark reads such streams from files and from pipes.
//
// Drops show in two places. A packet's epb_dropcount (Packet.DropCount) is
// shown by Wireshark as "Drop Count" (field frame.drop_count) on that packet.
// Close appends one Interface Statistics Block per interface with the sum of
// all drops (isb_ifdrop); Wireshark's Capture File Properties shows it as
// the interface's dropped packets, but only when the interface has exactly
// one ISB, which is why the Writer never writes more. capinfos 4.0 reports
// only "Number of stat entries = 1" per interface, not the values.
//
// The package knows nothing about where packets come from: callers describe
// interfaces and packets with Interface and Packet.
package pcapng
