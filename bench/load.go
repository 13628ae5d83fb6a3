//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The benchmark machine may be shared: other work on it (tests, fuzzers) takes
// CPU from the tool and the sender and makes losses look worse than they are.
// The harness cannot stop that, so it measures it: the CPU the whole machine
// used, minus what the harness (the sender) and the tool used, is "other load".

// userHz is the unit of /proc/stat and /proc/PID/stat times (USER_HZ, fixed at 100 in the Linux ABI).
const userHz = 100

// cpuSample is a snapshot of machine-wide and harness CPU use.
type cpuSample struct {
	at   time.Time
	busy time.Duration // user+nice+system+irq+softirq+steal over all CPUs, from /proc/stat
	self time.Duration // this process, all threads, from getrusage
}

func sampleCPU() (cpuSample, error) {
	s := cpuSample{at: time.Now()}
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return s, fmt.Errorf("unexpected /proc/stat: %q", line)
	}
	// irq and softirq count too: the sender's packets are processed in softirq
	// context, and with tick-based accounting (no IRQ_TIME_ACCOUNTING) that time
	// is also charged to the task it interrupted, the sender, as system time.
	// steal counts as well: time the hypervisor gave to other guests is just as
	// unavailable to the tool.
	var ticks int64
	for _, v := range []string{f[1], f[2], f[3], f[6], f[7], f[8]} { // user nice system irq softirq steal
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return s, fmt.Errorf("/proc/stat: %w", err)
		}
		ticks += n
	}
	s.busy = ticksToDuration(ticks)
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return s, fmt.Errorf("getrusage: %w", err)
	}
	s.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return s, nil
}

func ticksToDuration(t int64) time.Duration { return time.Duration(t) * time.Second / userHz }

// otherLoad is the share of the machine's CPU capacity that neither the harness
// nor the tool (which used tool in the interval) used between a and b.
func otherLoad(a, b cpuSample, tool time.Duration) float64 {
	capacity := b.at.Sub(a.at).Seconds() * float64(runtime.NumCPU())
	if capacity <= 0 {
		return 0
	}
	other := (b.busy - a.busy) - (b.self - a.self) - tool
	return max(0, other.Seconds()/capacity)
}

// waitIdle waits, up to limit, until other work uses at most maxLoad of the
// machine, measured over one-second windows, and returns the last measurement.
func waitIdle(ctx context.Context, maxLoad float64, limit time.Duration) (load float64, waited time.Duration, err error) {
	start := time.Now()
	for {
		a, err := sampleCPU()
		if err != nil {
			return 0, 0, err
		}
		if err := sleepCtx(ctx, time.Second); err != nil {
			return 0, time.Since(start), err
		}
		b, err := sampleCPU()
		if err != nil {
			return 0, 0, err
		}
		load = otherLoad(a, b, 0)
		if load <= maxLoad || time.Since(start) >= limit {
			return load, time.Since(start), nil
		}
	}
}
