package e2e_test

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nflogcap/nflogcap/internal/netns/nstest"
)

// relNobody returns the uid and gid of nobody (and its group, nogroup on
// Debian).
func relNobody(t *testing.T) (uid, gid int) {
	t.Helper()
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Fatalf("no user nobody: %v", err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid
}

// relNobodyDir makes a directory only nobody can write (and root).
func relNobodyDir(t *testing.T) string {
	t.Helper()
	uid, gid := relNobody(t)
	dir := relPublicDir(t)
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(out, uid, gid); err != nil {
		t.Fatal(err)
	}
	return out
}

// relPublicDir makes a 0755 directory outside the test's 0700 temporary
// directory, so other users can reach what is in it; removed at the end.
func relPublicDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "nflogcap-rel-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// relCopyBinary copies nflogcap into dir, mode 0755, with no capabilities.
func relCopyBinary(t *testing.T, dir string) string {
	t.Helper()
	src, err := os.Open(binary)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst := filepath.Join(dir, "nflogcap")
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, src); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

// relAsNobody is the command prefix that runs a program inside namespace
// ns as nobody:nogroup with no supplementary groups.
func relAsNobody(ns string) []string {
	return []string{"ip", "netns", "exec", ns, "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"}
}

// relStartBin starts program (not necessarily the test's binary) after
// prefix, like start does.
func relStartBin(t *testing.T, prefix []string, program string, args ...string) *proc {
	t.Helper()
	argv := append(append(append([]string{}, prefix...), program), args...)
	p := &proc{cmd: exec.Command(argv[0], argv[1:]...), done: make(chan struct{})}
	p.cmd.Stderr = &p.stderr
	p.cmd.Stdout = &p.stdout
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// relOwner returns a file's owner and permission bits.
func relOwner(t *testing.T, path string) (uid int, mode os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return int(fi.Sys().(*syscall.Stat_t).Uid), fi.Mode().Perm()
}

// relProcStatus returns fields of /proc/PID/status and of each of its
// threads' status.
func relProcStatus(t *testing.T, pid int, field string) []string {
	t.Helper()
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	if err != nil || len(tasks) == 0 {
		t.Fatalf("no threads of %d: %v", pid, err)
	}
	var vals []string
	for _, path := range append([]string{fmt.Sprintf("/proc/%d/status", pid)}, tasks...) {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // a thread that just ended
		}
		m := regexp.MustCompile(`(?m)^` + field + `:\s*(.*)$`).FindSubmatch(b)
		if m == nil {
			t.Fatalf("%s has no %s", path, field)
		}
		vals = append(vals, string(m[1]))
	}
	return vals
}

// relCaptureSome sends 5 datagrams to 127.0.0.1:7300 in ns (the fault
// ruleset logs them) and waits a moment.
func relCaptureSome(t *testing.T, s *udpSender) {
	t.Helper()
	s.send(t, "127.0.0.1:7300", 0, 5, 40)
	time.Sleep(300 * time.Millisecond)
}

// Issue 6.5: a non-root user holding only CAP_NET_ADMIN (a file capability)
// captures; without it, nflogcap exits 1 with one line naming CAP_NET_ADMIN.
func TestSecurityCapNetAdminOnly(t *testing.T) {
	ns := newE2ENS(t, relFaultRuleset)
	nstest.Require(t, "setcap", "setpriv")
	uid, _ := relNobody(t)
	out := relNobodyDir(t)
	s := newUDPSender(t, ns, "udp4")

	t.Run("with the capability", func(t *testing.T) {
		bin := relCopyBinary(t, relPublicDir(t))
		if b, err := exec.Command("setcap", "cap_net_admin+ep", bin).CombinedOutput(); err != nil {
			t.Fatalf("setcap: %v: %s", err, b)
		}
		file := filepath.Join(out, "cap.pcapng")
		p := relStartBin(t, relAsNobody(ns.Name), bin, "-g", "5000", "-w", file)
		p.waitListening(t, 1)
		// The process holds CAP_NET_ADMIN (bit 12) and nothing else, as nobody.
		pid := p.cmd.Process.Pid
		if got := relProcStatus(t, pid, "Uid")[0]; strings.Fields(got)[0] != strconv.Itoa(uid) {
			t.Errorf("running as uid %s, want nobody (%d)", got, uid)
		}
		if eff := relProcStatus(t, pid, "CapEff")[0]; eff != "0000000000001000" {
			t.Errorf("effective capabilities %s, want CAP_NET_ADMIN only (0000000000001000)", eff)
		}
		relCaptureSome(t, s)
		relStop(t, p, 20*time.Second)
		if owner, _ := relOwner(t, file); owner != uid {
			t.Errorf("file owned by uid %d, want nobody", owner)
		}
		if n := len(readCapture(t, file)); n != 5 {
			t.Errorf("%d packets captured as nobody with CAP_NET_ADMIN, want 5; stderr:\n%s", n, p.stderr.String())
		}
	})

	t.Run("without it", func(t *testing.T) {
		bin := relCopyBinary(t, relPublicDir(t))
		p := relStartBin(t, relAsNobody(ns.Name), bin, "-g", "5000", "-w", filepath.Join(out, "nocap.pcapng"))
		code := p.wait(t, 20*time.Second)
		stderr := p.stderr.String()
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		relOneLine(t, stderr, "CAP_NET_ADMIN", "setcap cap_net_admin+ep")
		if _, err := os.Stat(filepath.Join(out, "nocap.pcapng")); err == nil {
			t.Error("a file was created although nothing could be captured")
		}
	})
}

// relOneLine checks that stderr is exactly one line starting "nflogcap: ",
// containing every want, without a stack trace.
func relOneLine(t *testing.T, stderr string, want ...string) {
	t.Helper()
	if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") || !strings.HasPrefix(stderr, "nflogcap: ") {
		t.Errorf("stderr is not one line starting \"nflogcap: \":\n%s", stderr)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
	for _, s := range []string{"goroutine ", "panic:", "fatal error:"} {
		if strings.Contains(stderr, s) {
			t.Errorf("stderr shows a stack trace (%q):\n%s", s, stderr)
		}
	}
}

// Issue 6.5: -Z nobody as root drops to nobody and clears every capability
// on every thread after binding, before the file is created; the bounding
// set is empty and no_new_privs set, so no program it runs (-z) can regain
// privileges through a set-user-ID or file-capability binary; capture works.
// The receive buffer, which could not grow past net.core.rmem_max after -Z,
// is set to --rcvbuf-max at once, and stderr says so.
func TestSecurityDropToUser(t *testing.T) {
	ns := newE2ENS(t, relFaultRuleset)
	uid, gid := relNobody(t)
	out := relNobodyDir(t)
	file := filepath.Join(out, "dropped.pcapng")
	p := start(t, nil, "-g", "5000", "--netns", ns.Name, "-w", file, "-Z", "nobody")
	p.waitListening(t, 1)
	time.Sleep(100 * time.Millisecond)
	pid := p.cmd.Process.Pid
	for _, f := range []struct{ field, want string }{
		{"Uid", fmt.Sprintf("%d\t%d\t%d\t%d", uid, uid, uid, uid)},
		{"Gid", fmt.Sprintf("%d\t%d\t%d\t%d", gid, gid, gid, gid)},
		{"Groups", fmt.Sprint(gid)},
		{"CapEff", "0000000000000000"},
		{"CapPrm", "0000000000000000"},
		{"CapInh", "0000000000000000"},
		{"CapAmb", "0000000000000000"},
		{"CapBnd", "0000000000000000"},
		{"NoNewPrivs", "1"},
	} {
		vals := relProcStatus(t, pid, f.field)
		for i, v := range vals {
			if strings.TrimSpace(v) != f.want {
				t.Errorf("%s of thread %d of %d: %q, want %q", f.field, i, len(vals)-1, v, f.want)
			}
		}
	}
	s := newUDPSender(t, ns, "udp4")
	relCaptureSome(t, s)
	relStop(t, p, 20*time.Second)
	if owner, _ := relOwner(t, file); owner != uid {
		t.Errorf("file owned by uid %d, want nobody (%d)", owner, uid)
	}
	if n := len(readCapture(t, file)); n != 5 {
		t.Errorf("%d packets, want 5", n)
	}
	relCheckRcvBufNote(t, p.stderr.String())
	// Dropped to nobody, nflogcap cannot write where nobody may not: a
	// clear error, exit 1.
	rootOnly := t.TempDir()
	code, _, stderr := run(t, "-g", "5000", "--netns", ns.Name, "-q", "-w", filepath.Join(rootOnly, "x.pcapng"), "-Z", "nobody")
	if code != 1 {
		t.Errorf("-Z nobody into a root-only directory: exit %d, want 1:\n%s", code, stderr)
	}
	relOneLine(t, stderr, "permission denied")
}

// relCheckRcvBufNote checks what a capture with -Z and the default
// --rcvbuf 32MiB --rcvbuf-max 64MiB says of its receive buffer, on a host
// whose net.core.rmem_max is below 64 MiB: set to 64 MiB at once, said on
// stderr, with no promise to grow in the listening line.
func relCheckRcvBufNote(t *testing.T, stderr string) {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/net/core/rmem_max")
	if err != nil {
		t.Fatal(err)
	}
	rmem, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	if rmem >= 64<<20 {
		t.Fatalf("net.core.rmem_max is %d: the receive buffer could grow without privileges, so this host cannot show the -Z note", rmem)
	}
	want := "nflogcap: -Z nobody: receive buffer set to 64 MiB (--rcvbuf-max) at once instead of growing from 32 MiB on overruns: " +
		"after -Z drops CAP_NET_ADMIN it could not grow past net.core.rmem_max ("
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	if m := regexp.MustCompile(`listening on [^\n]*, receive buffer 64 MiB, link type`).FindString(stderr); m == "" {
		t.Errorf("the listening line does not give a fixed 64 MiB receive buffer:\n%s", stderr)
	}
	if !strings.Contains(stderr, "\nreceive buffer 64 MiB\n") {
		t.Errorf("the exit statistics do not give a 64 MiB receive buffer:\n%s", stderr)
	}
}

// Without -Z, the receive buffer starts at --rcvbuf and may grow, and
// nothing is said about -Z.
func TestSecurityRcvBufWithoutDrop(t *testing.T) {
	ns := newE2ENS(t, relFaultRuleset)
	p := start(t, nil, "-g", "5000", "--netns", ns.Name, "-w", filepath.Join(t.TempDir(), "root.pcapng"))
	p.waitListening(t, 1)
	relStop(t, p, 20*time.Second)
	stderr := p.stderr.String()
	if !strings.Contains(stderr, ", receive buffer 32 MiB (grows to 64 MiB), ") {
		t.Errorf("the listening line does not give 32 MiB growing to 64 MiB:\n%s", stderr)
	}
	if strings.Contains(stderr, "-Z") {
		t.Errorf("a note about -Z without -Z:\n%s", stderr)
	}
}

// relUmask is the test process's umask (and so nflogcap's).
func relUmask() os.FileMode {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return os.FileMode(m)
}

// Issue 6.5: files are 0600 unless --file-mode says otherwise; an existing
// file is never replaced without --overwrite; -z runs its command without a
// shell.
func TestSecurityFiles(t *testing.T) {
	ns := newE2ENS(t, relFaultRuleset)
	s := newUDPSender(t, ns, "udp4")
	umask := relUmask()

	t.Run("modes", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			want os.FileMode
		}{
			{nil, 0o600},
			{[]string{"--file-mode", "0640"}, 0o640},
			{[]string{"--file-mode", "0644", "-C", "1MB"}, 0o644},
		} {
			dir := t.TempDir()
			p := start(t, nil, append([]string{"-g", "5000", "--netns", ns.Name, "-w", filepath.Join(dir, "m.pcapng")}, tc.args...)...)
			p.waitListening(t, 1)
			relCaptureSome(t, s)
			relStop(t, p, 20*time.Second)
			entries, err := os.ReadDir(dir)
			if err != nil || len(entries) == 0 {
				t.Fatalf("%v: no files: %v", tc.args, err)
			}
			for _, e := range entries {
				if _, mode := relOwner(t, filepath.Join(dir, e.Name())); mode != tc.want&^umask {
					t.Errorf("%v: %s has mode %#o, want %#o", tc.args, e.Name(), mode, tc.want&^umask)
				}
			}
		}
	})

	t.Run("no overwrite", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "precious.pcapng")
		if err := os.WriteFile(file, []byte("evidence"), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := run(t, "-g", "5000", "--netns", ns.Name, "-w", file)
		if code != 2 {
			t.Errorf("exit %d, want 2", code)
		}
		relOneLine(t, stderr, "already exists", "--overwrite")
		if b, _ := os.ReadFile(file); string(b) != "evidence" {
			t.Fatalf("the existing file was changed: %q", b)
		}
		p := start(t, nil, "-g", "5000", "--netns", ns.Name, "-w", file, "--overwrite")
		p.waitListening(t, 1)
		relCaptureSome(t, s)
		relStop(t, p, 20*time.Second)
		if n := len(readCapture(t, file)); n != 5 {
			t.Errorf("--overwrite: %d packets, want 5", n)
		}
	})

	t.Run("postrotate without a shell", func(t *testing.T) {
		dir := t.TempDir()
		record := filepath.Join(dir, "argv.txt")
		script := filepath.Join(dir, "record.sh")
		// The script prints each argument on a line of its own.
		if err := os.WriteFile(script, []byte("#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done >> '"+record+"'\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		pwn := func(n int) string { return filepath.Join(dir, fmt.Sprintf("pwned%d", n)) }
		// Were this run by a shell, each would create a pwned file.
		hostile := []string{"x;touch", pwn(1), "$(touch", pwn(2) + ")", "`touch", pwn(3) + "`", "|touch", pwn(4), "&&touch", pwn(5)}
		cmd := script + " " + strings.Join(hostile, " ")
		p := start(t, nil, "-g", "5000", "--netns", ns.Name, "-w", filepath.Join(dir, "z.pcapng"), "-C", "1MB", "-z", cmd)
		p.waitListening(t, 1)
		relCaptureSome(t, s)
		p.cmd.Process.Signal(syscall.SIGHUP) // finish the first file now
		time.Sleep(300 * time.Millisecond)
		relCaptureSome(t, s)
		relStop(t, p, 30*time.Second)
		for i := 1; i <= 5; i++ {
			if _, err := os.Stat(pwn(i)); err == nil {
				t.Errorf("%s exists: the -z command went through a shell", pwn(i))
			}
		}
		b, err := os.ReadFile(record)
		if err != nil {
			t.Fatalf("-z command did not run: %v\nstderr:\n%s", err, p.stderr.String())
		}
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		files := relPcapngFiles(t, dir, "z")
		if len(files) != 2 || len(lines) != 2*(len(hostile)+1) {
			t.Fatalf("%d files, %d recorded arguments; want 2 runs of %d:\n%s", len(files), len(lines), len(hostile)+1, b)
		}
		var got []string
		for run := range 2 {
			argv := lines[run*(len(hostile)+1) : (run+1)*(len(hostile)+1)]
			if !slices.Equal(argv[:len(hostile)], hostile) {
				t.Errorf("run %d got arguments %q, want %q literally", run, argv[:len(hostile)], hostile)
			}
			got = append(got, argv[len(hostile)])
		}
		slices.Sort(got)
		if !slices.Equal(got, files) {
			t.Errorf("-z got files %q, want %q", got, files)
		}
	})
}
