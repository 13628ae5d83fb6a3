//go:build linux

package main

import (
	"context"
	"os"
	"time"
)

const (
	drainPoll = 100 * time.Millisecond
	// busyTicks is the CPU use within one poll that counts as still working:
	// 2 ticks of USER_HZ=100 is 20 ms in 100 ms, well above an idle tool's
	// timers and well below one working through a socket backlog.
	busyTicks = 2
)

// waitDrain waits after the flood until the tool has worked through what the
// kernel queued for it: nothing is left queued for it in the kernel (queued
// reports that), its output file stops growing and its CPU use drops to idle,
// all for the whole quiet window. The kernel check matters on a busy machine:
// a tool starved of CPU uses none, and would look finished. waitDrain gives up
// after limit and reports whether it saw the tool go quiet. A tool that writes
// no file (the bare reader, /dev/null runs) is judged without it.
func waitDrain(ctx context.Context, p *proc, file string, quiet, limit time.Duration, queued func() (bool, error)) (bool, error) {
	start := time.Now()
	lastBusy := start // the flood has just ended: the tool is assumed busy now
	lastSize := fileSize(file)
	lastTicks, err := cpuTicks(p.pid())
	if err != nil {
		return p.exited(), nil // it has exited: nothing left to drain
	}
	t := time.NewTicker(drainPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-p.done:
			return true, nil
		case now := <-t.C:
			size := fileSize(file)
			ticks, err := cpuTicks(p.pid())
			if err != nil {
				return true, nil
			}
			pending, err := queued()
			if err != nil {
				return false, err
			}
			if pending || size != lastSize || ticks-lastTicks >= busyTicks {
				lastBusy = now
			}
			lastSize, lastTicks = size, ticks
			if now.Sub(lastBusy) >= quiet {
				return true, nil
			}
			if now.Sub(start) >= limit {
				return false, nil
			}
		}
	}
}

// fileSize is the size of path, or -1 when there is no file to watch.
func fileSize(path string) int64 {
	if path == "" {
		return -1
	}
	fi, err := os.Stat(path)
	if err != nil {
		return -1
	}
	return fi.Size()
}
