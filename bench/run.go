//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nflogcap/nflogcap/internal/loadgen"
	"github.com/nflogcap/nflogcap/internal/netns"
)

// result is one tool's run at one size.
type result struct {
	tool     string
	size     int
	devnull  bool
	skipped  string // non-empty: the run did not happen, and why
	err      error  // the run failed; the fields below may be partial
	send     loadgen.Result
	logged   int64         // the nft rule's counter: packets the kernel logged
	captured int64         // distinct sent datagrams found in the output, or the tool's own count; -1 unknown
	fromTool bool          // captured is the tool's own count (no file to read)
	cpu      time.Duration // user+sys
	sysCPU   time.Duration // sys alone
	other    float64       // share of the CPUs used by other processes during the flood; -1 unknown
	maxRSS   int64         // bytes: VmHWM of the tool just before it was stopped
	written  int64         // output file size; -1 when there is no file
	report   toolReport
	output   string // the tool's own output (stdout and stderr)
	notes    []string
}

func (r *result) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// runOne runs tool t against one flood of size-byte datagrams in a fresh
// namespace and measures it. Everything it starts is stopped and removed
// before it returns, whatever happens.
func runOne(ctx context.Context, o *options, t *tool, size int, devnull bool) (res result) {
	res = result{tool: t.name, size: size, devnull: devnull, captured: -1, written: -1, other: -1}
	ctx, cancel := context.WithTimeout(ctx, o.runTimeout)
	defer cancel()
	if err := measure(ctx, o, t, &res); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("run timed out after %v: %w", o.runTimeout, err)
		}
		res.err = err
	}
	return res
}

func measure(ctx context.Context, o *options, t *tool, res *result) (err error) {
	// A clean filesystem start: a previous run's dirty pages must not be
	// written back on this run's CPU time.
	if err := syncDir(o.dir); err != nil {
		return err
	}
	if o.idleMax > 0 {
		load, waited, err := waitIdle(ctx, o.idleMax, o.idleWait)
		if err != nil {
			return err
		}
		if load > o.idleMax {
			res.note("machine busy: other processes used %.0f%% of the CPUs before the run (waited %v)", load*100, waited.Round(time.Second))
		}
	}
	ns, err := netns.Create("nflogcap-bench")
	if err != nil {
		return err
	}
	defer func() {
		if cerr := ns.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
	}()
	if err := ns.Nft(ruleset(o.group)); err != nil {
		return err
	}
	var sender *loadgen.Sender
	if err := ns.Do(func() (err error) {
		sender, err = loadgen.Dial(netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), benchPort))
		return err
	}); err != nil {
		return err
	}
	defer sender.Close()

	file, target := "", ""
	switch {
	case res.devnull:
		target = os.DevNull
	case t.writesFile():
		file = filepath.Join(o.dir, fmt.Sprintf("%s-%dB%s", t.name, res.size, t.ext))
		target = file
		if err := os.Remove(file); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove old capture: %w", err)
		}
	}
	if file != "" && !o.keep {
		defer os.Remove(file)
	}

	p, err := startProc(ns, t.argv(target), t.ready, o.captureCPU, o.nice)
	if err != nil {
		return err
	}
	defer p.kill()
	if err := waitReady(ctx, ns, o, p); err != nil {
		return fmt.Errorf("%s did not start listening: %w", t.name, err)
	}
	if err := sleepCtx(ctx, o.settle); err != nil {
		return err
	}

	if err := floodAndWatch(ctx, o, sender, p, res); err != nil {
		return err
	}
	if res.logged, err = nftCount(ns); err != nil {
		return err
	}
	if res.logged != int64(res.send.Sent) {
		res.note("the nft rule logged %d packets but the sender sent %d", res.logged, res.send.Sent)
	}
	if res.send.Retries > 0 {
		res.note("sender retried %d times after ENOBUFS/EAGAIN", res.send.Retries)
	}

	drained, err := waitDrain(ctx, p, file, o.quiet, o.drainMax, func() (bool, error) {
		st, err := readGroup(ns, o.group)
		return st.queued > 0 || st.rmem > 0, err
	})
	if err != nil {
		return err
	}
	if !drained {
		res.note("still busy %v after the flood; stopped anyway", o.drainMax)
	}
	// ru_maxrss from wait4 cannot be used: Go starts children with vfork, and
	// the exec folds the harness's own peak RSS into the child's. VmHWM is the
	// tool's own address space only; it is read before the stop so the tool is still there.
	res.maxRSS, err = vmHWM(p.pid())
	if err != nil {
		res.note("peak RSS: %v", err)
	}
	if sig := p.stop(o.stopTimeout); sig != syscall.SIGINT {
		res.note("did not exit on SIGINT within %v; ended by %v", o.stopTimeout, sig)
	} else if p.waitErr != nil {
		res.note("exit: %v", p.waitErr)
	}
	res.cpu, res.sysCPU = p.cpu()
	res.output = string(p.out.output())
	res.report = newReportPatterns().parse([]byte(res.output))
	tally(res, p, file)
	return nil
}

// floodAndWatch sends the load and measures how much of the machine other
// processes used meanwhile. Only the flood counts: while the tool drains or
// idles, others may use the CPU it leaves.
func floodAndWatch(ctx context.Context, o *options, sender *loadgen.Sender, p *proc, res *result) error {
	cfg := loadgen.Config{Count: o.countFor(res.size), Size: res.size, Rate: o.rate, Batch: o.batch}
	before, beforeErr := sampleCPU()
	beforeTicks, beforeTicksErr := cpuTicks(p.pid())
	var err error
	res.send, err = flood(ctx, sender, cfg, o.senderCPU, o.nice)
	if err != nil {
		return fmt.Errorf("flood: %w", err)
	}
	after, afterErr := sampleCPU()
	afterTicks, afterTicksErr := cpuTicks(p.pid())
	if errors.Join(beforeErr, beforeTicksErr, afterErr, afterTicksErr) == nil {
		res.other = otherLoad(before, after, ticksToDuration(afterTicks-beforeTicks))
	}
	return nil
}

// tally fills in what was captured: from the file, checked packet by packet,
// or from the tool's own report when there is no file.
func tally(res *result, p *proc, file string) {
	if file == "" {
		res.captured, res.fromTool = res.report.captured, true
		if res.captured < 0 {
			res.note("no file to count and the tool reported no packet count; its output ends: %s", p.out.tail())
		}
		return
	}
	res.written = fileSize(file)
	v := newVerifier(res.send.Sent, res.size)
	n, err := readCapture(file, v.packet)
	if err != nil {
		res.note("reading the capture: %v", err)
	}
	res.captured = v.ok
	if s := v.problems(); s != "" {
		res.note("%d packets in the file: %s", n, s)
	}
	if s := v.missing(); s != "" {
		res.note("%s", s)
	}
}

// waitReady waits for the tool's ready line and then for the kernel to list
// the group as bound, so the flood never starts before the tool can receive it.
func waitReady(ctx context.Context, ns *netns.NS, o *options, p *proc) error {
	deadline := time.NewTimer(o.readyTimeout)
	defer deadline.Stop()
	select {
	case <-p.out.ready:
	case <-p.done:
		return fmt.Errorf("exited (%v): %s", p.waitErr, p.out.tail())
	case <-deadline.C:
		return fmt.Errorf("no ready line within %v: %s", o.readyTimeout, p.out.tail())
	case <-ctx.Done():
		return ctx.Err()
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := readGroup(ns, o.group)
		if err != nil {
			return err
		}
		if st.bound {
			return nil
		}
		select {
		case <-tick.C:
		case <-p.done:
			return fmt.Errorf("exited (%v): %s", p.waitErr, p.out.tail())
		case <-deadline.C:
			return fmt.Errorf("group %d not bound within %v: %s", o.group, o.readyTimeout, p.out.tail())
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// flood sends on its own goroutine, on a thread placed like the tool (pinned
// to cpu when >= 0, at nice value nice when not 0). A placed thread is never
// unlocked, so the runtime discards it when the goroutine ends instead of
// reusing it for other goroutines.
func flood(ctx context.Context, s *loadgen.Sender, cfg loadgen.Config, cpu, nice int) (loadgen.Result, error) {
	type out struct {
		res loadgen.Result
		err error
	}
	c := make(chan out, 1)
	go func() {
		if cpu >= 0 || nice != 0 {
			runtime.LockOSThread()
			if _, err := placeThread(cpu, nice); err != nil {
				c <- out{err: fmt.Errorf("sender: %w", err)}
				return
			}
		}
		r, err := s.Send(ctx, cfg)
		c <- out{r, err}
	}()
	o := <-c
	return o.res, o.err
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// syncDir flushes the output filesystem's dirty pages.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open output directory: %w", err)
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return fmt.Errorf("syncfs %s: %w", dir, err)
	}
	return nil
}
