package command

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"github.com/urfave/cli/v2"

	"github.com/nflogcap/nflogcap/capture"
	"github.com/nflogcap/nflogcap/internal/netns"
	"github.com/nflogcap/nflogcap/nflog"
)

// demoRuleset logs three kinds of traffic to group 5000 under three prefixes,
// in both directions, one of them with a mark.
const demoRuleset = `
table inet nflogcap_demo {
	chain input {
		type filter hook input priority 0;
		udp dport 5353 log prefix "dns-in" group 5000
		tcp dport 22 log prefix "ssh-drop" group 5000 drop
	}
	chain output {
		type filter hook output priority 0;
		udp dport 5353 meta mark set 0x2a log prefix "dns-out" group 5000
	}
}
`

func demoCommand(version string) *cli.Command {
	return &cli.Command{
		Name:  "demo",
		Usage: "capture a little traffic in a throwaway network namespace and show what was captured",
		Description: "Creates a network namespace, loads an nft ruleset there that logs DNS-like UDP (IPv4 and IPv6,\n" +
			"both directions, one with mark 0x2a) and dropped SSH connection attempts to NFLOG group 5000, sends\n" +
			"that traffic, captures it to a pcapng file and prints it. The host's own firewall and interfaces are\n" +
			"not touched; the namespace is deleted at the end. Needs root, ip (iproute2) and nft (nftables).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "write", Aliases: []string{"w"}, Usage: "keep the capture in `FILE` (default: a temporary file, removed)"},
		},
		Action: func(c *cli.Context) error { return runDemo(c, version) },
	}
}

func runDemo(c *cli.Context, version string) error {
	if c.Args().Len() > 0 {
		return usagef("demo: unexpected argument %q: demo takes only -w FILE", c.Args().First())
	}
	out := c.App.Writer
	if os.Geteuid() != 0 {
		return errors.New("demo: needs root to create a network namespace (run: sudo nflogcap demo)")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("demo: needs %s on PATH (Debian: apt-get install iproute2 nftables)", tool)
		}
	}
	file := c.String("write")
	keep := file != ""
	if !keep {
		dir, err := os.MkdirTemp("", "nflogcap-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		file = filepath.Join(dir, "demo.pcapng")
	} else if _, err := os.Stat(file); err == nil {
		return usagef("demo: -w %s already exists", file)
	}

	ns, err := netns.Create("nflogcap-demo")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer ns.Close()
	fmt.Fprintf(out, "created network namespace %s with these rules:\n%s\n", ns.Name, demoRuleset)
	if err := ns.Nft(demoRuleset); err != nil {
		return fmt.Errorf("demo: %w", err)
	}

	ctx, cancel := context.WithCancel(c.Context)
	defer cancel()
	cp, err := capture.Start(ctx, capture.Options{
		Groups: []int{5000},
		Listener: nflog.Config{CopyMode: nflog.CopyPacket, Flags: nflog.FlagSeq, QThresh: 64,
			Timeout: 10 * time.Millisecond, NetNS: ns.Path, Families: []nflog.Family{}},
		Write:       file,
		Application: "nflogcap " + version + " (demo)",
		Stderr:      c.App.ErrWriter,
	})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	sent, terr := demoTraffic(ns)
	time.Sleep(100 * time.Millisecond) // one batch timeout and then some
	cancel()
	st, err := cp.Wait()
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if terr != nil {
		return fmt.Errorf("demo: sending traffic: %w", terr)
	}
	fmt.Fprintf(out, "\nsent %s\n", sent)
	st.WriteTo(out)
	fmt.Fprintf(out, "\ncaptured to %s:\n", file)
	if err := printCapture(out, file); err != nil {
		return fmt.Errorf("demo: reading back %s: %w", file, err)
	}
	if !keep {
		// The temporary file goes when the demo ends; say how to keep one.
		fmt.Fprintf(out, "\nThat file was temporary. To keep a capture and open it in Wireshark:\n  nflogcap demo -w demo.pcapng\n  tshark -r demo.pcapng -T fields -e frame.interface_name -e frame.comment\n")
		return nil
	}
	fmt.Fprintf(out, "\nOpen it in Wireshark, or try:\n  tshark -r %s -T fields -e frame.interface_name -e frame.comment\n", file)
	return nil
}

// demoTraffic sends, inside ns: 3 UDP datagrams to 127.0.0.1:5353, 3 to
// [::1]:5353, and one TCP connection attempt to 127.0.0.1:22, which the
// ruleset drops (the SYN and its retransmissions are logged).
func demoTraffic(ns *netns.NS) (string, error) {
	var udp4, udp6 *net.UDPConn
	err := ns.Do(func() error {
		var err error
		if udp4, err = net.ListenUDP("udp4", nil); err != nil {
			return err
		}
		udp6, err = net.ListenUDP("udp6", nil)
		return err
	})
	if err != nil {
		return "", err
	}
	defer udp4.Close()
	defer udp6.Close()
	for i := range 3 {
		msg := []byte(fmt.Sprintf("nflogcap demo query %d", i))
		if _, err := udp4.WriteToUDP(msg, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5353}); err != nil {
			return "", err
		}
		if _, err := udp6.WriteToUDP(msg, &net.UDPAddr{IP: net.IPv6loopback, Port: 5353}); err != nil {
			return "", err
		}
	}
	err = ns.Do(func() error {
		d := net.Dialer{Timeout: 1500 * time.Millisecond}
		c, err := d.Dial("tcp4", "127.0.0.1:22")
		if err == nil {
			c.Close()
		}
		return nil // the drop makes it time out, as it should
	})
	return "3 UDP datagrams to 127.0.0.1:5353, 3 to [::1]:5353, and a TCP connection attempt to 127.0.0.1:22 (dropped)", err
}

// printCapture lists the file's packets with gopacket's pcapng reader, as a
// check that what was written reads back.
func printCapture(w io.Writer, file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		return err
	}
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		ifc, _ := r.Interface(ci.InterfaceIndex)
		// gopacket's LinkType is 8 bits wide, so only raw IP (101) is
		// decoded here; SLL2 (276) reads back truncated.
		summary := fmt.Sprintf("link type %d", ifc.LinkType)
		first := layers.LayerTypeIPv4
		if len(data) > 0 && data[0]>>4 == 6 {
			first = layers.LayerTypeIPv6
		}
		pkt := gopacket.NewPacket(data, first, gopacket.Default)
		if nl := pkt.NetworkLayer(); ifc.LinkType == layers.LinkTypeRaw && nl != nil {
			summary = nl.NetworkFlow().String()
			if tl := pkt.TransportLayer(); tl != nil {
				summary += " " + tl.LayerType().String() + " " + tl.TransportFlow().String()
			}
		}
		fmt.Fprintf(w, "  %s  %-20s %4d bytes  %s\n", ci.Timestamp.Format("15:04:05.000000"), ifc.Name, ci.Length, summary)
	}
}
