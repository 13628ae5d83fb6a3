package e2e_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// rotScript writes an executable shell script and returns its path.
func rotScript(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "post.sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// --compress gzip|zstd with -C and -z: finished files become .pcapng.gz or
// .pcapng.zst, which tshark reads and the manifest names with their hashes;
// the -z command runs once per finished file with its final path.
func TestRotateCompress(t *testing.T) {
	for _, c := range []struct{ kind, ext, magic string }{
		{"gzip", ".gz", "\x1f\x8b"},
		{"zstd", ".zst", "\x28\xb5\x2f\xfd"},
	} {
		t.Run(c.kind, func(t *testing.T) {
			ns := rotNS(t)
			dir := t.TempDir()
			log := filepath.Join(t.TempDir(), "post.log")
			script := rotScript(t, `echo "$1" >> `+log)
			p := rotStart(t, ns, dir, "-C", "1MB", "--compress", c.kind, "-z", script)
			// ~3.3 MB/s for 2 s: a file every ~0.3 s, time enough to compress each.
			wait := rotFlood(t, ns, 6000, 3000)
			wait(false)
			stderr := rotStop(t, p)
			captured, lost := rotExitStats(t, stderr)
			if logged := rotLogged(t, ns); captured+lost != logged {
				t.Errorf("captured %d + lost %d != %d logged by the kernel", captured, lost, logged)
			}
			files := rotCheckArchive(t, dir, rotArchiveCheck{isb: true, allAB: true})
			compressed := 0
			var paths []string
			for _, f := range files {
				path := filepath.Join(dir, f.name)
				paths = append(paths, path)
				if !strings.HasSuffix(f.name, ".pcapng"+c.ext) {
					if !strings.Contains(stderr, f.name+" stays uncompressed") {
						t.Errorf("%s is not compressed, and stderr does not say why:\n%s", f.name, stderr)
					}
					continue
				}
				compressed++
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(string(data), c.magic) {
					t.Errorf("%s does not start with the %s magic", f.name, c.kind)
				}
				if _, err := os.Stat(strings.TrimSuffix(path, c.ext)); err == nil {
					t.Errorf("%s is compressed but its original is still there", f.name)
				}
			}
			if compressed < 3 || compressed < len(files)-1 {
				t.Errorf("%d of %d files compressed", compressed, len(files))
			}
			if packets, _ := rotCheckSequence(t, files); packets != captured {
				t.Errorf("files hold %d packets, nflogcap captured %d", packets, captured)
			}
			// -z: once per finished file, with the path it has at the end.
			b, err := os.ReadFile(log)
			if err != nil {
				t.Fatalf("-z command never ran: %v", err)
			}
			ran := strings.Fields(string(b))
			slices.Sort(ran)
			if !slices.Equal(ran, paths) {
				t.Errorf("-z ran with\n%s\nwant once per file:\n%s", strings.Join(ran, "\n"), strings.Join(paths, "\n"))
			}
		})
	}
}

// A failing -z command is reported on stderr, with its exit status and
// stderr, for each file, and the capture goes on: nothing is lost.
func TestRotatePostRotateFails(t *testing.T) {
	ns := rotNS(t)
	dir := t.TempDir()
	script := rotScript(t, `echo "rot-z-refuses $1" >&2; exit 3`)
	p := rotStart(t, ns, dir, "-C", "1MB", "-z", script)
	wait := rotFlood(t, ns, 6000, 3000)
	wait(false)
	stderr := rotStop(t, p)
	captured, lost := rotExitStats(t, stderr)
	if logged := rotLogged(t, ns); captured+lost != logged {
		t.Errorf("captured %d + lost %d != %d logged by the kernel", captured, lost, logged)
	}
	files := rotCheckArchive(t, dir, rotArchiveCheck{isb: true, allAB: true})
	if len(files) < 3 {
		t.Errorf("%d files, want several", len(files))
	}
	if packets, _ := rotCheckSequence(t, files); packets != captured {
		t.Errorf("files hold %d packets, nflogcap captured %d", packets, captured)
	}
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		found := false
		for _, line := range strings.Split(stderr, "\n") {
			if strings.Contains(line, "post-rotate command") && strings.Contains(line, script+" "+path) &&
				strings.Contains(line, "exit status 3") && strings.Contains(line, "rot-z-refuses "+path) {
				found = true
			}
		}
		if !found {
			t.Errorf("stderr does not report the failed -z command for %s:\n%s", f.name, stderr)
		}
	}
}
