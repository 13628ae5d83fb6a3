//go:build linux

package nflog_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/nflogcap/nflogcap/nflog"
)

// The caller owns the loop: Receive returns a batch, the events are used
// before the next Receive, and an overrun is a signal, not an end. This
// example reads for at most ten seconds or 100 packets, then stops
// gracefully: Unbind, collect what the kernel still held, until io.EOF.
//
// It has no Output section, so it is compiled but not run: binding an NFLOG
// group needs CAP_NET_ADMIN and a rule such as `nft add rule inet filter
// input log group 5000`.
func ExampleListen() {
	l, err := nflog.Listen(&nflog.Config{
		Group:    5000,
		CopyMode: nflog.CopyPacket,
		Flags:    nflog.FlagSeq,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	defer l.Close()

	show := func(events []nflog.Event) {
		for i := range events {
			ev := &events[i] // valid until the next Receive
			fmt.Printf("%s %s %d bytes, %d lost before\n", ev.Prefix, ev.HookName(), len(ev.Payload), ev.LostBefore)
		}
	}

	l.SetReadDeadline(time.Now().Add(10 * time.Second))
	for n := 0; n < 100; {
		events, err := l.Receive()
		if errors.Is(err, nflog.ErrResyncNeeded) {
			fmt.Fprintln(os.Stderr, "kernel dropped packets:", err)
			continue
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return
		}
		show(events)
		n += len(events)
	}

	// Graceful stop: the kernel flushes its batch; Receive returns the rest,
	// then io.EOF (Unbind sets a deadline of its own for the drain).
	if err := l.Unbind(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	for {
		events, err := l.Receive()
		if errors.Is(err, nflog.ErrResyncNeeded) {
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return
		}
		show(events)
	}
	st := l.Stats()
	fmt.Printf("%d packets, %d lost\n", st.Packets, st.Lost)
}
