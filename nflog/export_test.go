package nflog

import "time"

// ParseTwoWays parses the attributes b of a packet message (what follows
// the nfgenmsg header) as parsePacket does, the kernel-order path first, and
// with the general walk alone, for FuzzKernelOrder. rest is how many bytes
// the kernel-order path left to the general walk.
func ParseTwoWays(b []byte) (withFastPath, walkOnly Event, reasons [2]string, rest int) {
	recv := time.Unix(1800000000, 0)
	for i, ev := range []*Event{&withFastPath, &walkOnly} {
		ev.Time, ev.TimeSource = recv, TimeReceived
		off, present := 0, Attr(0)
		if i == 0 {
			off, present = parseKernelOrder(b, ev)
			rest = max(len(b)-off, 0)
		}
		if off < len(b) {
			present, reasons[i] = parseAttrs(b, off, present, ev)
		}
		ev.Present = present
	}
	return withFastPath, walkOnly, reasons, rest
}
