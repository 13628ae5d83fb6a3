package e2e_test

// Helpers of the rotation and archive tests (issue 4). Every identifier
// starts with "rot" so that nothing collides with the other e2e files.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	rotbinary "encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nflogcap/nflogcap/internal/loadgen"
	"github.com/nflogcap/nflogcap/internal/netns"
	"github.com/nflogcap/nflogcap/pcapng"
)

// rotRuleset logs UDP to port 7101 to group 5000, alternately with prefix
// "rot-a" and "rot-b" (numgen), so that every file of a flood uses two
// interfaces. The named counter "logged" counts what the kernel handed to
// NFLOG: the exact reference for captured + lost. The packets are dropped
// after logging, so a connected sender gets no ICMP errors.
const rotRuleset = `
table inet rot {
	counter logged { }
	chain in {
		type filter hook input priority 0;
		udp dport 7101 numgen inc mod 2 vmap { 0 : jump a, 1 : jump b }
	}
	chain a {
		counter name "logged" log prefix "rot-a" group 5000 drop
	}
	chain b {
		counter name "logged" log prefix "rot-b" group 5000 drop
	}
}`

const (
	rotDst    = "127.0.0.1:7101"
	rotIfaceA = "nflog:5000:rot-a"
	rotIfaceB = "nflog:5000:rot-b"
	rotSize   = 1000 // UDP payload bytes of flood datagrams
)

// rotNameRE is the name of a finished capture file of base "fw":
// base_NNNNN_YYYYMMDDTHHMMSSZ.pcapng, optionally compressed.
var rotNameRE = regexp.MustCompile(`^fw_(\d{5,})_(\d{8}T\d{6}Z)\.pcapng(\.gz|\.zst)?$`)

// rotNS makes a namespace with rotRuleset loaded.
func rotNS(t *testing.T) *netns.NS {
	t.Helper()
	for _, tool := range []string{"sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("needs %s on PATH", tool)
		}
	}
	return newE2ENS(t, rotRuleset)
}

// rotLogged reads the "logged" counter: packets the rules handed to NFLOG.
func rotLogged(t *testing.T, ns *netns.NS) uint64 {
	t.Helper()
	out, err := ns.Output("nft", "list", "counter", "inet", "rot", "logged")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`packets (\d+) bytes`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no packet count in nft output:\n%s", out)
	}
	n, _ := strconv.ParseUint(string(m[1]), 10, 64)
	return n
}

// rotStart starts nflogcap on group 5000 of ns writing dir/fw.pcapng with
// the extra args, and waits until it listens.
func rotStart(t *testing.T, ns *netns.NS, dir string, args ...string) *proc {
	t.Helper()
	argv := append([]string{"-g", "5000", "--netns", ns.Name, "-w", filepath.Join(dir, "fw.pcapng")}, args...)
	p := start(t, nil, argv...)
	p.waitListening(t, 1)
	return p
}

// rotStop stops p with SIGINT and requires a clean exit.
func rotStop(t *testing.T, p *proc) string {
	t.Helper()
	if code := p.stop(t, syscall.SIGINT); code != 0 {
		t.Fatalf("exit %d after SIGINT; stderr:\n%s", code, p.stderr.String())
	}
	stderr := p.stderr.String()
	rotNoPanic(t, stderr)
	return stderr
}

func rotNoPanic(t *testing.T, stderr string) {
	t.Helper()
	for _, bad := range []string{"panic:", "goroutine ", "runtime error", "fatal error:"} {
		if strings.Contains(stderr, bad) {
			t.Fatalf("stderr has %q:\n%s", bad, stderr)
		}
	}
}

// rotExitStats parses the statistics nflogcap prints when it ends.
func rotExitStats(t *testing.T, stderr string) (captured, lost uint64) {
	t.Helper()
	c := regexp.MustCompile(`(?m)^(\d+) packets captured$`).FindAllStringSubmatch(stderr, -1)
	l := regexp.MustCompile(`(?m)^(\d+) packets lost`).FindAllStringSubmatch(stderr, -1)
	if len(c) == 0 || len(l) == 0 {
		t.Fatalf("no exit statistics on stderr:\n%s", stderr)
	}
	captured, _ = strconv.ParseUint(c[len(c)-1][1], 10, 64)
	lost, _ = strconv.ParseUint(l[len(l)-1][1], 10, 64)
	return captured, lost
}

// rotWaitCaptured asks p for its statistics (SIGUSR1) until it has captured
// at least n packets.
func rotWaitCaptured(t *testing.T, p *proc, n uint64) {
	t.Helper()
	re := regexp.MustCompile(`(?m)^(\d+) packets captured$`)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		p.cmd.Process.Signal(syscall.SIGUSR1)
		time.Sleep(50 * time.Millisecond)
		m := re.FindAllStringSubmatch(p.stderr.String(), -1)
		if len(m) > 0 {
			if got, _ := strconv.ParseUint(m[len(m)-1][1], 10, 64); got >= n {
				return
			}
		}
	}
	t.Fatalf("nflogcap did not capture %d packets within 10s; stderr:\n%s", n, p.stderr.String())
}

// rotFlood starts a flood of count datagrams at rate (0: as fast as one
// core allows) to rotDst in ns on a goroutine of its own. wait(false) waits
// for it to end; wait(true) stops it first. Both return what was sent.
func rotFlood(t *testing.T, ns *netns.NS, count int, rate float64) (wait func(stop bool) loadgen.Result) {
	t.Helper()
	var s *loadgen.Sender
	if err := ns.Do(func() error {
		var err error
		s, err = loadgen.Dial(netip.MustParseAddrPort(rotDst))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	type result struct {
		res loadgen.Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := s.Send(ctx, loadgen.Config{Count: count, Size: rotSize, Rate: rate})
		done <- result{res, err}
	}()
	var r *result
	wait = func(stop bool) loadgen.Result {
		if r == nil {
			if stop {
				cancel()
			}
			got := <-done
			r = &got
			cancel()
			s.Close()
			if got.err != nil && !stop {
				t.Errorf("flood: %v (sent %d)", got.err, got.res.Sent)
			}
		}
		return r.res
	}
	t.Cleanup(func() { wait(true) })
	return wait
}

// rotListDir sorts the directory's entries into finished capture files (in
// name order), leftover .part files and manifests; anything else fails the
// test.
func rotListDir(t *testing.T, dir string) (captures, parts []string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case rotNameRE.MatchString(name):
			captures = append(captures, name)
		case strings.HasSuffix(name, ".part"):
			parts = append(parts, name)
		case name == "MANIFEST.sha256", name == "MANIFEST.jsonl", name == ".nflogcap.lock":
		default:
			t.Errorf("unexpected entry %s in %s", name, dir)
		}
	}
	slices.Sort(captures)
	return captures, parts
}

// rotPacket is one packet as tshark reads it.
type rotPacket struct {
	iface string
	seq   uint64 // NFLOG sequence number (epb_packetid)
	drops uint64 // epb_dropcount: packets lost just before this one
	ns    int64  // timestamp, Unix nanoseconds
}

// rotPackets reads a capture file with tshark, which must not complain.
func rotPackets(t *testing.T, path string) []rotPacket {
	t.Helper()
	pkts, err := rotReadPackets(path)
	if err != nil {
		t.Fatal(err)
	}
	return pkts
}

// rotReadPackets is rotPackets for any goroutine.
func rotReadPackets(path string) ([]rotPacket, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "tshark", "-r", path, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=f",
		"-e", "frame.interface_name", "-e", "frame.packet_id", "-e", "frame.drop_count", "-e", "frame.time_epoch")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("tshark -r %s: %v\n%s", path, err, stderr.String())
	}
	if msg := tsharkErrors(stderr.String()); msg != "" {
		return nil, fmt.Errorf("tshark -r %s complained: %s", path, msg)
	}
	var pkts []rotPacket
	for i, line := range strings.Split(strings.TrimRight(stdout.String(), "\n"), "\n") {
		if line == "" {
			continue
		}
		r := strings.Split(line, "\t")
		if len(r) != 4 {
			return nil, fmt.Errorf("%s: packet %d: fields %q", path, i+1, r)
		}
		p := rotPacket{iface: r[0]}
		var err error
		if p.seq, err = strconv.ParseUint(r[1], 10, 64); err != nil {
			return nil, fmt.Errorf("%s: packet %d has no sequence number (packet_id %q)", path, i+1, r[1])
		}
		if r[2] != "" {
			if p.drops, err = strconv.ParseUint(r[2], 10, 64); err != nil {
				return nil, fmt.Errorf("%s: packet %d: drop count %q", path, i+1, r[2])
			}
		}
		if p.ns, err = rotEpochNS(r[3]); err != nil {
			return nil, fmt.Errorf("%s: packet %d: %v", path, i+1, err)
		}
		pkts = append(pkts, p)
	}
	return pkts, nil
}

// rotReadAll reads every file with tshark and capinfos, two at a time.
func rotReadAll(t *testing.T, paths []string) (pkts [][]rotPacket, infos []string) {
	t.Helper()
	pkts, infos = make([][]rotPacket, len(paths)), make([]string, len(paths))
	errs := make([]error, len(paths))
	next := make(chan int)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if pkts[i], errs[i] = rotReadPackets(paths[i]); errs[i] != nil {
					continue
				}
				out, err := exec.Command("capinfos", paths[i]).CombinedOutput()
				if err != nil {
					errs[i] = fmt.Errorf("capinfos %s: %v\n%s", paths[i], err, out)
				}
				infos[i] = string(out)
			}
		}()
	}
	for i := range paths {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return pkts, infos
}

// rotEpochNS parses tshark's frame.time_epoch ("1764789249.003983000").
func rotEpochNS(s string) (int64, error) {
	sec, frac, _ := strings.Cut(s, ".")
	secs, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || len(frac) > 9 {
		return 0, fmt.Errorf("time %q", s)
	}
	frac += strings.Repeat("0", 9-len(frac))
	nanos, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("time %q", s)
	}
	return secs*1e9 + nanos, nil
}

// rotEntry is one line of MANIFEST.jsonl, with the field names issue 4 and
// the rotate package document.
type rotEntry struct {
	Type       string  `json:"type"`
	Name       string  `json:"name"`
	SHA256     string  `json:"sha256"`
	Bytes      *int64  `json:"bytes"`
	Packets    *uint64 `json:"packets"`
	First      string  `json:"first"`
	Last       string  `json:"last"`
	Lost       *uint64 `json:"lost"`
	SeqFirst   *uint64 `json:"seq_first"`
	SeqLast    *uint64 `json:"seq_last"`
	Compressed *bool   `json:"compressed"`
	Repaired   *bool   `json:"repaired"`
	Error      string  `json:"error"`
	Reason     string  `json:"reason"`
	Time       string  `json:"time"`
}

// rotIndex reads MANIFEST.jsonl.
func rotIndex(t *testing.T, dir string) []rotEntry {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "MANIFEST.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var es []rotEntry
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var e rotEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("MANIFEST.jsonl line %d: %v: %s", len(es)+1, err, sc.Text())
		}
		es = append(es, e)
	}
	return es
}

// rotFileRecords returns the "file" records of the index by name; a name
// recorded twice fails the test.
func rotFileRecords(t *testing.T, es []rotEntry) map[string]rotEntry {
	t.Helper()
	m := map[string]rotEntry{}
	for _, e := range es {
		if e.Type != "file" {
			continue
		}
		if _, dup := m[e.Name]; dup {
			t.Errorf("MANIFEST.jsonl records %s twice", e.Name)
		}
		m[e.Name] = e
	}
	return m
}

// rotSumCheck runs `sha256sum -c --strict MANIFEST.sha256` in dir and
// returns the names it lists.
func rotSumCheck(t *testing.T, dir string) []string {
	t.Helper()
	cmd := exec.Command("sha256sum", "-c", "--strict", "MANIFEST.sha256")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sha256sum -c MANIFEST.sha256 in %s: %v\n%s", dir, err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "MANIFEST.sha256"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if _, name, ok := strings.Cut(line, "  "); ok {
			names = append(names, name)
		}
	}
	return names
}

// rotUmask returns the process's umask (without changing it).
func rotUmask(t *testing.T) os.FileMode {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^Umask:\s+([0-7]+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("no Umask in /proc/self/status")
	}
	u, _ := strconv.ParseUint(string(m[1]), 8, 32)
	return os.FileMode(u)
}

func rotSHA256(t *testing.T, path string) (string, int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:]), int64(len(b))
}

func rotTimeNS(t *testing.T, what, s string) int64 {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return 0
	}
	return tm.UnixNano()
}

// rotFile is a finished capture file with its packets and manifest record.
type rotFile struct {
	name   string
	seq    int // sequence number in the name
	pkts   []rotPacket
	record rotEntry
}

// rotArchiveCheck says what rotCheckArchive expects beyond the basics.
type rotArchiveCheck struct {
	mode  os.FileMode // of capture files and manifests; 0 means 0600
	isb   bool        // each file ends with one statistics block per interface
	allAB bool        // each file with more than a handful of packets uses both prefixes
}

// rotCheckArchive checks what every archive directory must be after a
// capture ended, and returns its files in name order:
//   - names follow base_NNNNN_YYYYMMDDTHHMMSSZ.pcapng[.gz|.zst]; name order
//     is sequence order and time order; no .part file is left;
//   - files (and manifests) have the expected mode;
//   - each file reads in tshark on its own, and capinfos shows an
//     interface description for every interface its packets use (and, with
//     c.isb, one statistics block for each);
//   - sha256sum -c MANIFEST.sha256 succeeds and lists exactly these files;
//   - MANIFEST.jsonl has one file record per file whose sha256, bytes,
//     packets, first and last time, lost and sequence range match it.
func rotCheckArchive(t *testing.T, dir string, c rotArchiveCheck) []rotFile {
	t.Helper()
	if c.mode == 0 {
		c.mode = 0o600
	}
	names, parts := rotListDir(t, dir)
	if len(parts) > 0 {
		t.Errorf("capture ended cleanly but left %v", parts)
	}
	if len(names) == 0 {
		t.Fatalf("no capture files in %s", dir)
	}
	for _, n := range append([]string{"MANIFEST.sha256", "MANIFEST.jsonl"}, names...) {
		fi, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != c.mode {
			t.Errorf("%s has mode %v, want %v", n, fi.Mode().Perm(), c.mode)
		}
	}
	listed := rotSumCheck(t, dir)
	if !slices.Equal(slices.Sorted(slices.Values(listed)), names) {
		t.Errorf("MANIFEST.sha256 lists %v, the directory holds %v", listed, names)
	}
	records := rotFileRecords(t, rotIndex(t, dir))

	paths := make([]string, len(names))
	for i, name := range names {
		paths[i] = filepath.Join(dir, name)
	}
	allPkts, infos := rotReadAll(t, paths)
	files := make([]rotFile, len(names))
	prevStamp := ""
	for i, name := range names {
		m := rotNameRE.FindStringSubmatch(name)
		f := &files[i]
		f.name = name
		f.seq, _ = strconv.Atoi(m[1])
		if _, err := time.Parse("20060102T150405Z", m[2]); err != nil {
			t.Errorf("%s: time stamp: %v", name, err)
		}
		if i > 0 && (f.seq <= files[i-1].seq || m[2] < prevStamp) {
			t.Errorf("name order is not sequence and time order: %s after %s", name, files[i-1].name)
		}
		prevStamp = m[2]
		path := paths[i]
		f.pkts = allPkts[i]

		// Interfaces: each one a packet uses is described in this file.
		info := infos[i]
		described := map[string]bool{}
		for _, m := range regexp.MustCompile(`(?m)^\s*Name = (.*)$`).FindAllStringSubmatch(info, -1) {
			described[strings.TrimSpace(m[1])] = true
		}
		used := map[string]bool{}
		for _, p := range f.pkts {
			used[p.iface] = true
			if !described[p.iface] {
				t.Errorf("%s: packet on interface %q, which the file does not describe; capinfos:\n%s", name, p.iface, info)
				break
			}
		}
		if c.allAB && len(f.pkts) > 10 && (!used[rotIfaceA] || !used[rotIfaceB]) {
			t.Errorf("%s: %d packets use interfaces %v, want both prefixes", name, len(f.pkts), keys(used))
		}
		if c.isb {
			if n := strings.Count(info, "Number of stat entries = 1"); n != len(described) || (n == 0 && len(f.pkts) > 0) {
				t.Errorf("%s: %d interfaces with one statistics block, want all %d; capinfos:\n%s", name, n, len(described), info)
			}
			if len(described) > 0 && !strings.HasSuffix(name, ".gz") && !strings.HasSuffix(name, ".zst") {
				rotCheckEnd(t, path)
			}
		}

		// Its manifest record.
		r, ok := records[name]
		if !ok {
			t.Errorf("MANIFEST.jsonl has no file record for %s", name)
			continue
		}
		f.record = r
		sum, size := rotSHA256(t, path)
		if r.SHA256 != sum || r.Bytes == nil || *r.Bytes != size {
			t.Errorf("%s: manifest sha256 %s, %v bytes; file has %s, %d bytes", name, r.SHA256, r.Bytes, sum, size)
		}
		if r.Packets == nil || *r.Packets != uint64(len(f.pkts)) {
			t.Errorf("%s: manifest says %v packets, tshark reads %d", name, r.Packets, len(f.pkts))
		}
		var drops uint64
		last := int64(0)
		for _, p := range f.pkts {
			drops += p.drops
			last = max(last, p.ns)
		}
		if r.Lost == nil || *r.Lost != drops {
			t.Errorf("%s: manifest says %v lost, the packets' drop counts sum to %d", name, r.Lost, drops)
		}
		if len(f.pkts) > 0 {
			if got := rotTimeNS(t, name+" first", r.First); got != f.pkts[0].ns {
				t.Errorf("%s: manifest first %s, first packet at %s", name, r.First, time.Unix(0, f.pkts[0].ns).UTC().Format(time.RFC3339Nano))
			}
			if got := rotTimeNS(t, name+" last", r.Last); got != last {
				t.Errorf("%s: manifest last %s, last packet at %s", name, r.Last, time.Unix(0, last).UTC().Format(time.RFC3339Nano))
			}
			if r.SeqFirst == nil || r.SeqLast == nil || *r.SeqFirst != f.pkts[0].seq || *r.SeqLast != f.pkts[len(f.pkts)-1].seq {
				t.Errorf("%s: manifest sequence range %v..%v, packets %d..%d", name, r.SeqFirst, r.SeqLast, f.pkts[0].seq, f.pkts[len(f.pkts)-1].seq)
			}
		}
		wantCompressed := strings.HasSuffix(name, ".gz") || strings.HasSuffix(name, ".zst")
		if r.Compressed == nil || *r.Compressed != wantCompressed || r.Repaired == nil || *r.Repaired || r.Error != "" {
			t.Errorf("%s: manifest record compressed %v, repaired %v, error %q", name, r.Compressed, r.Repaired, r.Error)
		}
	}
	return files
}

// rotCheckEnd checks that an uncompressed file is whole blocks to its last
// byte and that the last one is an Interface Statistics Block.
func rotCheckEnd(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if valid, err := pcapng.ValidPrefix(bytes.NewReader(data), int64(len(data))); err != nil || valid != int64(len(data)) {
		t.Errorf("%s: %d bytes, valid prefix %d (%v)", path, len(data), valid, err)
		return
	}
	// The writer uses host byte order; the last 4 bytes repeat the last
	// block's length.
	n := len(data)
	last := int(rotbinary.NativeEndian.Uint32(data[n-4:]))
	if last < 12 || last > n || rotbinary.NativeEndian.Uint32(data[n-last:]) != 5 {
		t.Errorf("%s does not end with an Interface Statistics Block", path)
	}
}

// rotCheckSequence checks that the packets of files, in order, carry
// sequence numbers that leave no gap but the ones their drop counts
// declare: nothing duplicated, reordered or silently missing across
// rotations. It returns the number of packets and the sum of declared drops.
func rotCheckSequence(t *testing.T, files []rotFile) (packets, drops uint64) {
	t.Helper()
	var prev *rotPacket
	var prevFile string
	for _, f := range files {
		for i := range f.pkts {
			p := &f.pkts[i]
			if prev != nil && p.seq != prev.seq+1+p.drops {
				t.Fatalf("%s packet %d: sequence %d (drop count %d) follows %d in %s: packets duplicated or missing",
					f.name, i+1, p.seq, p.drops, prev.seq, prevFile)
			}
			packets++
			drops += p.drops
			prev, prevFile = p, f.name
		}
	}
	return packets, drops
}
