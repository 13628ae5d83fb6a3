// Package nflog receives packets that netfilter rules log to an NFLOG group
// (`nft ... log group 5000`, `iptables -j NFLOG --nflog-group 5000`).
//
// A Listener binds one group over a NETLINK_NETFILTER socket, configures it
// (copy mode, snaplen, batching, flags) and hands the caller batches of Events
// parsed in place from the datagrams the kernel sends. The caller owns the read
// loop: the package starts no goroutines.
//
//	l, err := nflog.Listen(&nflog.Config{Group: 5000, CopyMode: nflog.CopyPacket})
//	...
//	for {
//		events, err := l.Receive()
//		if errors.Is(err, nflog.ErrResyncNeeded) {
//			continue // the kernel dropped a batch; Stats and Event.LostBefore say how many
//		}
//		if err != nil {
//			break
//		}
//		for i := range events {
//			ev := &events[i] // valid until the next Receive
//		}
//	}
//
// # Lifetimes
//
// Events and every byte slice inside them (Payload, Prefix, Raw, ...) point into
// the listener's receive buffer. They are valid until the next call to Receive,
// Rebind or Close; copy what must live longer. This is what lets a busy capture
// run without allocating.
//
// # Loss
//
// When the socket's receive buffer overflows the kernel drops whole batches and
// reports ENOBUFS once. Receive then returns an error matching ErrResyncNeeded
// (the "resync needed" signal of the reference design); the listener stays
// usable and the next Receive returns the next batch. With the Seq flag every
// gap in the group's sequence numbers is counted exactly: Event.LostBefore on
// the first packet after the gap, and Stats.Lost in total.
//
// # Shutdown
//
// Close unbinds the group and closes the socket at once. Unbind is the graceful
// variant: the kernel flushes the batch it still holds, Receive returns what is
// left, then io.EOF.
package nflog

// Group 5000 is the convention for "a group of my own" (as the reference design
// recommends); it is not a default, the caller always names the group.
