package command

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/nflogcap/nflogcap/capture"
	"github.com/nflogcap/nflogcap/internal/units"
	"github.com/nflogcap/nflogcap/nflog"
	"github.com/nflogcap/nflogcap/pcapng"
)

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// settings is what the command line says, checked: every mistake is a
// UsageError naming the flag and what it allows, found before anything is
// bound or created.
type settings struct {
	opts  capture.Options
	user  string   // -Z
	notes []string // said on stderr once the capture has started
}

func parseSettings(c *cli.Context) (*settings, error) {
	s := &settings{}
	o := &s.opts
	var err error
	if o.Groups, err = parseGroups(c.StringSlice(flagGroup)); err != nil {
		return nil, err
	}
	l := &o.Listener
	switch m := c.String(flagCopyMode); m {
	case "packet":
		l.CopyMode = nflog.CopyPacket
	case "meta":
		l.CopyMode = nflog.CopyMeta
	case "none":
		l.CopyMode = nflog.CopyNone
	default:
		return nil, usagef("invalid --copy-mode %q: allowed none, meta, packet", m)
	}
	if l.Snaplen, err = intFlag(c, flagSnaplen, 0, nflog.MaxSnaplen, "(0 = whole packet)"); err != nil {
		return nil, err
	}
	if l.Snaplen != 0 && l.CopyMode != nflog.CopyPacket {
		return nil, usagef("--snaplen %d needs --copy-mode packet (the kernel copies no packet bytes with %s)", l.Snaplen, l.CopyMode)
	}
	switch lt := c.String(flagLinkType); lt {
	case "raw":
		o.LinkType = pcapng.LinkTypeRaw
	case "nflog":
		o.LinkType = pcapng.LinkTypeNFLOG
	case "sll2":
		o.LinkType = pcapng.LinkTypeLinuxSLL2
	default:
		return nil, usagef("invalid --linktype %q: allowed raw, nflog, sll2", lt)
	}
	if l.QThresh, err = intFlag(c, flagQThresh, 1, nflog.MaxQThresh, ""); err != nil {
		return nil, err
	}
	if l.Timeout, err = durationFlag(c, flagBatchTimeout, true); err != nil {
		return nil, err
	}
	if l.Timeout > time.Hour {
		return nil, usagef("invalid --batch-timeout %v: allowed 0..1h (a batch should not wait longer)", l.Timeout)
	}
	if c.Bool(flagSeq) {
		l.Flags |= nflog.FlagSeq
	}
	if c.Bool(flagSeqGlobal) {
		l.Flags |= nflog.FlagSeqGlobal
	}
	if c.Bool(flagConntrack) {
		l.Flags |= nflog.FlagConntrack
	}
	if l.Families, err = parseFamilies(c.String(flagFamily)); err != nil {
		return nil, err
	}
	if err := parseRcvBuf(c, l); err != nil {
		return nil, err
	}
	if ns := c.String(flagNetNS); ns != "" {
		path := ns
		if !strings.ContainsRune(ns, '/') {
			path = filepath.Join("/run/netns", ns)
		}
		if _, err := os.Stat(path); err != nil {
			return nil, usagef("--netns %s: network namespace not found (%s does not exist; see ip netns list)", ns, path)
		}
		l.NetNS = ns
	}
	if err := parseOutput(c, o); err != nil {
		return nil, err
	}
	if n, err := intFlag(c, flagCount, 0, 1<<62, "(0 = no limit)"); err != nil {
		return nil, err
	} else {
		o.Count = uint64(n)
	}
	if o.Duration, err = durationFlag(c, flagDuration, false); err != nil {
		return nil, err
	}
	o.Quiet = c.Bool(flagQuiet)
	o.NoComments = c.Bool(flagNoComments)
	if o.MaxInterfaces, err = intFlag(c, flagMaxIfaces, 1, 1<<20, ""); err != nil {
		return nil, err
	}
	if s.user = c.String(flagUser); s.user != "" {
		if _, err := user.Lookup(s.user); err != nil {
			if _, uerr := user.LookupId(s.user); uerr != nil {
				return nil, usagef("-Z %s: no such user (want a user name or uid from /etc/passwd)", s.user)
			}
		}
		if note := rcvBufForUser(l, s.user, rmemMax()); note != "" {
			s.notes = append(s.notes, note)
		}
	}
	return s, nil
}

// rcvBufForUser sets the receive buffer of a capture that drops privileges
// (-Z) to --rcvbuf-max from the start, when growing it later would not get
// there: a buffer past net.core.rmem_max (rmemMax bytes) takes
// SO_RCVBUFFORCE, which needs CAP_NET_ADMIN, and -Z drops it. The buffer is
// a limit, not memory the kernel allocates up front: it costs only while
// nflogcap is behind. It returns what to tell the user, or "".
func rcvBufForUser(l *nflog.Config, user string, rmemMax int) string {
	if l.RcvBufMax <= l.RcvBuf || l.RcvBufMax <= rmemMax {
		return ""
	}
	from := l.RcvBuf
	l.RcvBuf, l.RcvBufMax = l.RcvBufMax, 0
	return fmt.Sprintf("-Z %s: receive buffer set to %s (--rcvbuf-max) at once instead of growing from %s on overruns: "+
		"after -Z drops CAP_NET_ADMIN it could not grow past net.core.rmem_max (%s)",
		user, units.FormatSize(int64(l.RcvBuf)), units.FormatSize(int64(from)), units.FormatSize(int64(rmemMax)))
}

// rmemMax is net.core.rmem_max, the largest receive buffer a process
// without CAP_NET_ADMIN can set; 0 when it cannot be read.
func rmemMax() int {
	b, err := os.ReadFile("/proc/sys/net/core/rmem_max")
	if err != nil {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0
	}
	return n
}

func parseGroups(values []string) ([]int, error) {
	var groups []int
	seen := map[int]bool{}
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue // NFLOGCAP_GROUP= (empty) or a trailing comma: no group
			}
			g, err := strconv.Atoi(part)
			if err != nil || g < 1 || g > 65535 {
				return nil, usagef("invalid --group %q: want an NFLOG group number 1..65535", part)
			}
			if seen[g] {
				return nil, usagef("--group %d given twice", g)
			}
			seen[g] = true
			groups = append(groups, g)
		}
	}
	if len(groups) == 0 {
		return nil, usagef("missing --group: name the NFLOG group to capture, 1..65535 (for example -g 5000, as in nft ... log group 5000)")
	}
	return groups, nil
}

func parseFamilies(v string) ([]nflog.Family, error) {
	fams := []nflog.Family{}
	if strings.TrimSpace(v) == "none" {
		return fams, nil
	}
	for _, part := range strings.Split(v, ",") {
		switch strings.TrimSpace(part) {
		case "ipv4":
			fams = append(fams, nflog.FamilyIPv4)
		case "ipv6":
			fams = append(fams, nflog.FamilyIPv6)
		case "bridge":
			fams = append(fams, nflog.FamilyBridge)
		case "arp":
			fams = append(fams, nflog.FamilyARP)
		default:
			return nil, usagef("invalid --family %q: allowed a comma-separated list of ipv4, ipv6, bridge, arp, or none", part)
		}
	}
	return fams, nil
}

// parseRcvBuf applies --rcvbuf and --rcvbuf-max: the buffer grows on overruns
// up to the maximum, unless --rcvbuf alone fixes its size.
func parseRcvBuf(c *cli.Context, l *nflog.Config) error {
	size, err := sizeFlag(c, flagRcvBuf, 4096, 1<<30)
	if err != nil {
		return err
	}
	l.RcvBuf = int(size)
	if c.IsSet(flagRcvBuf) && !c.IsSet(flagRcvBufMax) {
		return nil
	}
	maxSize, err := sizeFlag(c, flagRcvBufMax, 4096, 1<<30)
	if err != nil {
		return err
	}
	if maxSize < size {
		def := ""
		if !c.IsSet(flagRcvBuf) {
			def = " (the default)"
		}
		return usagef("--rcvbuf-max %s is smaller than --rcvbuf %s%s: the buffer grows from --rcvbuf up to --rcvbuf-max, so allowed is --rcvbuf-max >= --rcvbuf",
			c.String(flagRcvBufMax), c.String(flagRcvBuf), def)
	}
	l.RcvBufMax = int(maxSize)
	return nil
}

// parseOutput checks -w, --live and the rotation flags.
func parseOutput(c *cli.Context, o *capture.Options) error {
	o.Write = c.String(flagWrite)
	rc := &o.Rotate
	var err error
	if rc.MaxBytes, err = sizeFlag(c, flagFileSize, 0, 1<<50); err != nil {
		return err
	}
	if rc.Interval, err = durationFlag(c, flagInterval, false); err != nil {
		return err
	}
	if n, err := intFlag(c, flagFileCount, 0, 1<<20, "(0 = keep all)"); err != nil {
		return err
	} else {
		rc.MaxFiles = n
	}
	rc.Align = c.Bool(flagAlign)
	if cmd := strings.Fields(c.String(flagPostRotate)); len(cmd) > 0 {
		rc.PostRotate = cmd
	}
	switch z := c.String(flagCompress); z {
	case "":
	case "gzip", "zstd":
		rc.Compress = z
	default:
		return usagef("invalid --compress %q: allowed gzip, zstd", z)
	}
	mode, err := strconv.ParseUint(c.String(flagFileMode), 8, 32)
	if err != nil || mode > 0o777 {
		return usagef("invalid --file-mode %q: want octal permissions such as 0600 or 0640", c.String(flagFileMode))
	}
	rc.FileMode = os.FileMode(mode)
	rc.Overwrite = c.Bool(flagOverwrite)
	rc.Direct = c.Bool(flagDirectIO)
	rotating := rc.MaxBytes > 0 || rc.Interval > 0
	switch {
	case rc.MaxFiles > 0 && !rotating:
		return usagef("-W %d needs -C SIZE or -G DURATION: the ring buffer counts rotated files", rc.MaxFiles)
	case rc.Align && rc.Interval == 0:
		return usagef("--align needs -G DURATION")
	case (len(rc.PostRotate) > 0 || rc.Compress != "") && !rotating:
		return usagef("-z and --compress act on finished rotated files: they need -C SIZE or -G DURATION")
	}
	rc.Manifest = rotating || c.Bool(flagManifest)
	if c.IsSet(flagManifest) {
		rc.Manifest = c.Bool(flagManifest)
	}
	if live := c.String(flagLive); live != "" {
		if err := ensureFIFO(live); err != nil {
			return err
		}
		o.Live = live
	}
	switch {
	case o.Write == "":
		if rotating || rc.Manifest {
			return usagef("rotation and manifests need -w FILE")
		}
		return nil
	case o.Write == "-":
		if rotating || rc.Manifest {
			return usagef("rotation and manifests need -w FILE, not standard output")
		}
		return nil
	}
	fi, err := os.Stat(o.Write)
	switch {
	case err == nil && fi.Mode()&(os.ModeNamedPipe|os.ModeCharDevice) != 0:
		if rotating || rc.Manifest {
			return usagef("-w %s is a FIFO or device: rotation and manifests need a file (use --live FIFO with -w FILE)", o.Write)
		}
		return nil
	case err == nil && fi.IsDir():
		return usagef("-w %s is a directory: name a file in it, for example %s", o.Write, filepath.Join(o.Write, "capture.pcapng"))
	case err == nil && !rotating && !rc.Overwrite:
		return usagef("-w %s already exists: choose another name or add --overwrite", o.Write)
	}
	dir := filepath.Dir(o.Write)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return usagef("cannot write %s: directory %s does not exist", o.Write, dir)
	}
	return nil
}

// ensureFIFO makes path a FIFO if nothing is there.
func ensureFIFO(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := unix.Mkfifo(path, 0o600); err != nil {
			return usagef("--live %s: cannot create FIFO: %v", path, err)
		}
		return nil
	}
	if err != nil {
		return usagef("--live %s: %v", path, err)
	}
	if fi.Mode()&os.ModeNamedPipe == 0 {
		return usagef("--live %s exists and is not a FIFO (create one with mkfifo, or name a new path)", path)
	}
	return nil
}

func intFlag(c *cli.Context, name string, lo, hi int, note string) (int, error) {
	v := strings.TrimSpace(c.String(name))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		msg := fmt.Sprintf("invalid %s %q: allowed %d..%d", label(name), v, lo, hi)
		if note != "" {
			msg += " " + note
		}
		return 0, &UsageError{Err: errors.New(msg)}
	}
	return n, nil
}

func sizeFlag(c *cli.Context, name string, lo, hi int64) (int64, error) {
	v := strings.TrimSpace(c.String(name))
	if v == "" {
		return 0, nil
	}
	n, err := units.ParseSize(v)
	if err != nil {
		return 0, usagef("%s: %v", label(name), err)
	}
	if n < lo || n > hi {
		return 0, usagef("invalid %s %s: allowed %s..%s", label(name), v, units.FormatSize(lo), units.FormatSize(hi))
	}
	return n, nil
}

func durationFlag(c *cli.Context, name string, zeroOK bool) (time.Duration, error) {
	v := strings.TrimSpace(c.String(name))
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || (d == 0 && !zeroOK) {
		return 0, usagef("invalid %s %q: want a duration such as 500ms, 10s, 1h", label(name), v)
	}
	return d, nil
}
