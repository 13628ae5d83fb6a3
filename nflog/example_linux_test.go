//go:build linux

package nflog_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/nflogcap/nflogcap/nflog"
)

// The caller owns the loop: Receive returns a batch, the events are used
// before the next Receive, and an overrun is a signal, not an end.
func ExampleListen() {
	l, err := nflog.Listen(&nflog.Config{
		Group:    5000,
		CopyMode: nflog.CopyPacket,
		Flags:    nflog.FlagSeq,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	for {
		events, err := l.Receive()
		if errors.Is(err, nflog.ErrResyncNeeded) {
			log.Printf("kernel dropped packets: %v", err)
			continue
		}
		if err != nil {
			log.Fatal(err)
		}
		for i := range events {
			ev := &events[i]
			fmt.Printf("%s %s %d bytes, %d lost before\n", ev.Prefix, ev.HookName(), len(ev.Payload), ev.LostBefore)
		}
	}
}
