package e2e_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// -w FILE without rotation: an existing file is refused (exit 2, the
// message names it and --overwrite) and left alone; --overwrite replaces
// it; a created file has mode 0600, or what --file-mode says.
func TestRotateSingleFile(t *testing.T) {
	ns := rotNS(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "out.pcapng")
	if err := os.WriteFile(file, []byte("precious evidence"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run(t, "-g", "5000", "--netns", ns.Name, "-w", file)
	if code != 2 || !strings.Contains(stderr, file) || !strings.Contains(stderr, "--overwrite") {
		t.Errorf("-w over an existing file: exit %d, stderr %q; want 2 and a message naming the file and --overwrite", code, stderr)
	}
	if b, _ := os.ReadFile(file); string(b) != "precious evidence" {
		t.Fatalf("the refused capture changed the existing file: %q", b)
	}

	umask := rotUmask(t)
	for _, c := range []struct {
		name string
		args []string
		mode os.FileMode
	}{
		{"overwrite", []string{"-w", file, "--overwrite"}, 0o600},
		{"new", []string{"-w", filepath.Join(dir, "new.pcapng")}, 0o600},
		{"file-mode", []string{"-w", filepath.Join(dir, "shared.pcapng"), "--file-mode", "0640"}, 0o640 &^ umask},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := start(t, nil, append([]string{"-g", "5000", "--netns", ns.Name}, c.args...)...)
			p.waitListening(t, 1)
			s := newUDPSender(t, ns, "udp4")
			s.send(t, rotDst, 0, 5, 100)
			rotWaitCaptured(t, p, 5)
			rotStop(t, p)
			path := c.args[1]
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != c.mode {
				t.Errorf("%s has mode %v, want %v", path, fi.Mode().Perm(), c.mode)
			}
			if pkts := rotPackets(t, path); len(pkts) != 5 {
				t.Errorf("%s holds %d packets, want 5", path, len(pkts))
			}
			if nums := rotPayloadNumbers(t, path); len(nums) != 5 || nums[0] != 0 || nums[4] != 4 {
				t.Errorf("%s holds datagrams %v, want 0..4", path, nums)
			}
		})
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "new.pcapng out.pcapng shared.pcapng" {
		t.Errorf("directory holds %v; single-file captures should leave only their files", names)
	}
}
