package pcapng

import "fmt"

// Interface describes a capture interface: an Interface Description Block.
// String fields are written as given (UTF-8 expected) and omitted when empty;
// each must be at most 65535 bytes (the filter at most 65534).
type Interface struct {
	// LinkType tells readers how to decode this interface's packets.
	LinkType LinkType
	// Name is if_name, shown by Wireshark as frame.interface_name.
	Name string
	// Description is if_description (frame.interface_description).
	Description string
	// SnapLen is the largest captured length of a packet on this interface
	// (the IDB's SnapLen field); 0 means no limit. WritePacket truncates
	// longer packets to it, as a capture with this snaplen would have.
	SnapLen uint32
	// OS is if_os, the operating system of the capturing host.
	OS string
	// Filter is if_filter with filter type 0: a libpcap filter expression.
	Filter string
	// Hardware is if_hardware, a description of the interface hardware.
	Hardware string
	// Comment is an opt_comment on the IDB.
	Comment string
}

// AddInterface writes an Interface Description Block for ifc and returns its
// interface id, to be used in Packet.Interface: 0 for the first, then 1, 2,
// and so on. Interfaces may be added at any time, also after packets.
// Timestamps are always in nanoseconds (if_tsresol 9).
func (w *Writer) AddInterface(ifc *Interface) (int, error) {
	if err := w.usable(); err != nil {
		return 0, err
	}
	if ifc == nil {
		return 0, fmt.Errorf("pcapng: nil *Interface: %w", ErrInvalid)
	}
	if uint64(len(w.ifaces)) >= 1<<32-1 {
		return 0, fmt.Errorf("pcapng: %d interfaces, more than 32-bit ids can name: %w", len(w.ifaces), ErrInvalid)
	}
	for _, f := range []struct {
		name string
		len  int
	}{
		{"Name", len(ifc.Name)}, {"Description", len(ifc.Description)}, {"OS", len(ifc.OS)},
		{"Filter", filterSize(ifc.Filter)}, {"Hardware", len(ifc.Hardware)}, {"Comment", len(ifc.Comment)},
	} {
		if f.len > maxOptionLength {
			return 0, fmt.Errorf("pcapng: Interface.%s is %d bytes: %w", f.name, f.len, ErrTooLong)
		}
	}
	b, err := w.reserve(idbSize(ifc))
	if err != nil {
		return 0, err
	}
	putIDB(b, ifc)
	if err := w.commit(b); err != nil {
		return 0, err
	}
	w.ifaces = append(w.ifaces, interfaceStats{snapLen: ifc.SnapLen})
	return len(w.ifaces) - 1, nil
}
