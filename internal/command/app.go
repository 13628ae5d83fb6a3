package command

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/nflogcap/nflogcap/capture"
	"github.com/nflogcap/nflogcap/internal/privdrop"
)

// New builds the nflogcap command line application.
func New(version string, stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:  "nflogcap",
		Usage: "capture packets logged to NFLOG groups as pcapng, with every packet's metadata",
		UsageText: `nflogcap -g 5000 -w out.pcapng                          # one file
nflogcap -g 5000 -w - | wireshark -k -i -                # live feed
nflogcap -g 5000 -w /srv/cap/fw.pcapng -C 100MB -W 50    # rotating forensic archive
nflogcap -g 5000                                         # one line per packet
nflogcap demo                                            # try it in a throwaway namespace`,
		Description: "Netfilter rules (nft ... log group 5000, iptables -j NFLOG --nflog-group 5000) hand packets to an NFLOG group.\n" +
			"nflogcap binds the group and writes them as pcapng: one interface per log prefix, direction, interfaces,\n" +
			"mark, uid/gid and sequence number on every packet, and exact counts of packets the kernel dropped.\n" +
			"Every capture flag can also be set from the environment: --batch-timeout is NFLOGCAP_BATCH_TIMEOUT.",
		HideVersion:     true,
		Flags:           captureFlags(),
		Writer:          stdout,
		ErrWriter:       stderr,
		Action:          func(c *cli.Context) error { return runCapture(c, version) },
		Commands:        []*cli.Command{demoCommand(version), recoverCommand()},
		OnUsageError:    onUsageError,
		ExitErrHandler:  func(*cli.Context, error) {}, // main decides the exit code
		CommandNotFound: nil,
	}
	for _, cmd := range app.Commands {
		cmd.OnUsageError = onUsageError
	}
	return app
}

func onUsageError(c *cli.Context, err error, _ bool) error {
	return &UsageError{Err: fmt.Errorf("%s (see nflogcap --help)", usageMessage(c, err))}
}

func runCapture(c *cli.Context, version string) error {
	if c.Bool(flagVersion) {
		fmt.Fprintf(c.App.Writer, "nflogcap %s\n", version)
		return nil
	}
	if c.Args().Len() > 0 {
		return usagef("unexpected argument %q: nflogcap takes flags only (or a subcommand: demo, recover)", c.Args().First())
	}
	s, err := parseSettings(c)
	if err != nil {
		return err
	}
	o := s.opts
	o.Application = "nflogcap " + version
	o.Stderr = c.App.ErrWriter
	if f, ok := c.App.Writer.(*os.File); ok {
		o.Stdout = f
	}
	o.AfterBind = func() error {
		if s.user != "" {
			return privdrop.ToUser(s.user)
		}
		return nil
	}
	if path := c.String(flagCPUProfile); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	err = run(c.Context, o, s.notes)
	if err != nil && s.user != "" && errors.Is(err, fs.ErrPermission) {
		err = fmt.Errorf("%w (files are created as -Z user %s, who may not write there)", err, s.user)
	}
	return err
}

// run captures until ctx ends (SIGINT, SIGTERM), the count or duration is
// reached, or an output fails. SIGHUP starts a new file, SIGUSR1 prints
// statistics. The final statistics go to stderr; notes, once the capture
// has started (unless -q).
//
// Stopped before the capture began (SIGINT while -w FIFO waits for its
// reader), it says so and returns nil: nothing was captured, nothing lost.
func run(ctx context.Context, o capture.Options, notes []string) error {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGUSR1)
	defer signal.Stop(sigs)

	cp, err := capture.Start(ctx, o)
	if errors.Is(err, capture.ErrStopped) {
		fmt.Fprintf(o.Stderr, "nflogcap: %v\n", err)
		return nil
	}
	if err != nil {
		return err
	}
	if !o.Quiet {
		for _, n := range notes {
			fmt.Fprintf(o.Stderr, "nflogcap: %s\n", n)
		}
	}
	type result struct {
		st  capture.Stats
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := cp.Wait()
		done <- result{st, err}
	}()
	for {
		select {
		case sig := <-sigs:
			switch sig {
			case syscall.SIGHUP:
				cp.Rotate()
			case syscall.SIGUSR1:
				cp.Stats().WriteTo(o.Stderr)
			}
		case r := <-done:
			r.st.WriteTo(o.Stderr)
			return r.err
		}
	}
}
