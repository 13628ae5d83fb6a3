package e2e_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nflogcap/nflogcap/pcapng"
)

// A capture killed with SIGKILL mid-flood: every file MANIFEST.sha256 lists
// verifies; the .part file's valid prefix parses and tshark reads it;
// `nflogcap recover` reports it and `recover --repair` makes it whole: it
// reads without error, the manifest verifies with it included, and the
// sequence numbers run on from the closed files into it without a gap.
func TestRotateCrash(t *testing.T) {
	ns := rotNS(t)
	dir := t.TempDir()
	// 8 MB files at ~5 MB/s: each file lives more than a second, so the
	// current one has been flushed (every second) when it is killed.
	p := rotStart(t, ns, dir, "-C", "8MB")
	wait := rotFlood(t, ns, 200000, 5000)

	// Kill it once a file is finished and listed (and no other is between
	// its rename and its manifest entry), and the current .part holds
	// flushed data.
	deadline := time.Now().Add(30 * time.Second)
	for {
		sums, _ := os.ReadFile(filepath.Join(dir, "MANIFEST.sha256"))
		done, _ := filepath.Glob(filepath.Join(dir, "fw_*.pcapng"))
		parts, _ := filepath.Glob(filepath.Join(dir, "fw_*.pcapng.part"))
		flushed := false
		for _, part := range parts {
			if fi, err := os.Stat(part); err == nil && fi.Size() > 0 {
				flushed = true
			}
		}
		if len(sums) > 0 && bytes.Count(sums, []byte("\n")) == len(done) && flushed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no finished file and flushed .part after 30s; stderr:\n%s", p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.cmd.Process.Kill()
	p.wait(t, 10*time.Second)
	wait(true)
	// An interrupted atomic rewrite of MANIFEST.sha256 may leave its
	// temporary file; the manifest itself is whole either way.
	if err := os.Remove(filepath.Join(dir, "MANIFEST.sha256.tmp")); err == nil {
		t.Logf("killed while rewriting MANIFEST.sha256 (its .tmp was left)")
	}

	// Every file the manifest lists verifies.
	listed := rotSumCheck(t, dir)
	finished, parts := rotListDir(t, dir)
	if !slices.Equal(slices.Sorted(slices.Values(listed)), finished) {
		t.Errorf("MANIFEST.sha256 lists %v, the directory holds %v", listed, finished)
	}
	if len(parts) == 0 {
		t.Fatalf("no .part file left by the killed capture; directory: %v", finished)
	}

	// Each .part parses up to its last complete block, and tshark reads it.
	prefixPackets := map[string]int{}
	for _, part := range parts {
		path := filepath.Join(dir, part)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		valid, err := pcapng.ValidPrefix(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("%s: ValidPrefix: %v", part, err)
		}
		t.Logf("%s: %d bytes, valid prefix %d", part, len(data), valid)
		if valid == 0 {
			t.Errorf("%s: %d bytes but no complete block", part, len(data))
			continue
		}
		prefix := filepath.Join(t.TempDir(), "prefix.pcapng")
		if err := os.WriteFile(prefix, data[:valid], 0o600); err != nil {
			t.Fatal(err)
		}
		n := len(rotPackets(t, prefix))
		prefixPackets[part] = n
		if n == 0 {
			t.Errorf("%s: the valid prefix of %d bytes holds no packet", part, valid)
		}
		// The whole .part, torn tail included: tshark reads at least the
		// packets of the valid prefix (it may complain about the tail).
		if got := rotTsharkCount(t, path); got < n {
			t.Errorf("%s: tshark reads %d packets, the valid prefix holds %d", part, got, n)
		}
	}

	// recover reports the .part files and changes nothing.
	code, stdout, stderr := run(t, "recover", filepath.Join(dir, "fw.pcapng"))
	if code != 0 {
		t.Fatalf("recover: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, part := range parts {
		if !strings.Contains(stdout, filepath.Join(dir, part)) || !strings.Contains(stdout, "recover --repair") {
			t.Errorf("recover does not report %s with the repair command:\n%s", part, stdout)
		}
	}
	if _, again := rotListDir(t, dir); !slices.Equal(again, parts) {
		t.Errorf("recover without --repair changed the .part files: %v, then %v", parts, again)
	}

	// recover --repair makes them whole.
	code, stdout, stderr = run(t, "recover", "--repair", filepath.Join(dir, "fw.pcapng"))
	if code != 0 {
		t.Fatalf("recover --repair: exit %d\n%s%s", code, stdout, stderr)
	}
	t.Logf("recover --repair:\n%s", stdout)
	after, left := rotListDir(t, dir)
	if len(left) != 0 {
		t.Errorf("after --repair, .part files remain: %v", left)
	}
	listed = rotSumCheck(t, dir)
	if !slices.Equal(slices.Sorted(slices.Values(listed)), after) {
		t.Errorf("after --repair MANIFEST.sha256 lists %v, the directory holds %v", listed, after)
	}
	records := rotFileRecords(t, rotIndex(t, dir))
	var files []rotFile
	for _, name := range after {
		path := filepath.Join(dir, name)
		f := rotFile{name: name, pkts: rotPackets(t, path)}
		files = append(files, f)
		part := name + ".part"
		n, wasPart := prefixPackets[part]
		r := records[name]
		if !wasPart {
			continue
		}
		if !strings.Contains(stdout, "repaired as "+path) {
			t.Errorf("recover --repair does not report %s repaired as %s:\n%s", part, path, stdout)
		}
		if len(f.pkts) != n {
			t.Errorf("repaired %s holds %d packets, its valid prefix %d", name, len(f.pkts), n)
		}
		if r.Repaired == nil || !*r.Repaired {
			t.Errorf("MANIFEST.jsonl does not record %s as repaired: %+v", name, r)
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("repaired %s: %v", name, err)
		}
	}
	if len(files) != len(finished)+len(parts) {
		t.Errorf("after repair %d files, want %d finished + %d repaired", len(files), len(finished), len(parts))
	}
	// Nothing is missing before the cut: closed files and the repaired one
	// form one sequence.
	packets, _ := rotCheckSequence(t, files)
	t.Logf("%d files, %d packets kept", len(files), packets)
}

// rotTsharkCount counts the packets tshark reads from path, whatever it
// says about the end of the file.
func rotTsharkCount(t *testing.T, path string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "tshark", "-r", path, "-T", "fields", "-e", "frame.number")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ctx.Err() != nil {
		t.Fatalf("tshark -r %s: timed out", path)
	}
	if msg := tsharkErrors(stderr.String()); err != nil || msg != "" {
		t.Logf("tshark -r %s: %v %s", path, err, msg)
	}
	return strings.Count(string(out), "\n")
}
