//go:build linux

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// Filesystem magic numbers from statfs(2) that are memory, not disk.
const (
	tmpfsMagic = 0x01021994
	ramfsMagic = 0x858458f6
)

// checkDiskDir creates dir if needed and refuses memory-backed filesystems:
// the point of the benchmark is what writing to disk costs, as it does for a user.
func checkDiskDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return fmt.Errorf("statfs %s: %w", dir, err)
	}
	switch st.Type {
	case tmpfsMagic, ramfsMagic:
		return fmt.Errorf("output directory %s is on a memory filesystem (%s); use a disk-backed one with -dir", dir, fsName(dir))
	}
	return nil
}

// fsName describes the filesystem dir is on, from the mount table: "ext4 (/dev/vda on /)".
func fsName(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "unknown"
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		abs = r
	}
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	best, desc := "", "unknown"
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fl := strings.Fields(sc.Text()) // device mountpoint type options ...
		if len(fl) < 3 {
			continue
		}
		mp := fl[1]
		under := abs == mp || strings.HasPrefix(abs, strings.TrimSuffix(mp, "/")+"/")
		// The longest matching mount point wins; a later equal one is mounted on top.
		if under && len(mp) >= len(best) {
			best, desc = mp, fmt.Sprintf("%s (%s on %s)", fl[2], fl[0], mp)
		}
	}
	return desc
}

// machineLine is the report's header line: what the numbers were measured on.
func machineLine(dir, date string) string {
	var un unix.Utsname
	kernel := "unknown"
	if unix.Uname(&un) == nil {
		kernel = unix.ByteSliceToString(un.Release[:])
	}
	return fmt.Sprintf("%s · %d CPUs (%s) · Linux %s · output on %s · %s",
		date, runtime.NumCPU(), cpuModel(), kernel, fsName(dir), runtime.Version())
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// toolVersion is the first lines of `name --version`, joined, or "" when it prints nothing.
func toolVersion(name string, lines int) string {
	out, _ := exec.Command(name, "--version").CombinedOutput()
	ls := strings.Split(string(bytes.TrimSpace(out)), "\n")
	return strings.Join(ls[:min(lines, len(ls))], ", ")
}
