//go:build linux

package nflog

// LastDatagram returns the bytes of the datagram the last Receive read from
// the socket, for recording fixtures.
func (l *Listener) LastDatagram() []byte {
	return append([]byte(nil), l.buf[:min(l.readN, len(l.buf))]...)
}
