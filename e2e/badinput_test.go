package e2e_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/nflogcap/nflogcap/internal/netns"
	"github.com/nflogcap/nflogcap/internal/netns/nstest"
)

// relRunEnv runs nflogcap to completion after prefix (e.g. ip netns exec
// NS setpriv ...), with extra environment variables, and returns its exit
// status and standard error.
func relRunEnv(t *testing.T, prefix, env []string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	argv := append(append(append([]string{}, prefix...), binary), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Env = append(append(os.Environ(), "NFLOGCAP_GROUP="), env...)
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("nflogcap %v: timed out; stderr:\n%s", args, stderr.String())
	}
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("nflogcap %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return code, stderr.String()
}

// Issue 6.6 / 7: bad input gets one line on stderr, "nflogcap: " and what
// is wrong and what is allowed, exit 2 for a command-line mistake and 1 for
// a failure at run time, and never a stack trace.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing.pcapng")
	if err := os.WriteFile(existing, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "new.pcapng")
	g := []string{"-g", "5000"}
	with := func(extra ...string) []string { return append(append([]string{}, g...), extra...) }

	for _, tc := range []struct {
		name string
		args []string
		env  []string
		want []string // the problem and what is allowed
	}{
		{"unknown flag", with("--bogus"), nil, []string{"flag provided but not defined: -bogus", "nflogcap --help"}},
		{"flag without value", []string{"-g"}, nil, []string{"flag needs an argument: -g", "nflogcap --help"}},
		{"group 0", []string{"-g", "0"}, nil, []string{`invalid --group "0"`, "1..65535"}},
		{"group 70000", []string{"-g", "70000"}, nil, []string{`invalid --group "70000"`, "1..65535"}},
		{"group text", []string{"-g", "web"}, nil, []string{`invalid --group "web"`, "1..65535"}},
		{"missing group", []string{"-w", file}, nil, []string{"missing --group", "1..65535"}},
		{"group twice", []string{"-g", "5000,5000"}, nil, []string{"--group 5000 given twice"}},
		{"snaplen 70000", with("-s", "70000"), nil, []string{`invalid -s/--snaplen "70000"`, "0..65531"}},
		{"snaplen with copy-mode meta", with("-s", "100", "--copy-mode", "meta"), nil, []string{"--snaplen 100 needs --copy-mode packet"}},
		{"unknown linktype", with("--linktype", "ether"), nil, []string{`invalid --linktype "ether"`, "allowed raw, nflog, sll2"}},
		{"unknown family", with("--family", "ipv4,ipx"), nil, []string{`invalid --family "ipx"`, "ipv4, ipv6, bridge, arp, or none"}},
		{"unknown copy mode", with("--copy-mode", "all"), nil, []string{`invalid --copy-mode "all"`, "allowed none, meta, packet"}},
		{"qthresh 0", with("--qthresh", "0"), nil, []string{`invalid --qthresh "0"`, "1..1024"}},
		{"qthresh 2000", with("--qthresh", "2000"), nil, []string{`invalid --qthresh "2000"`, "1..1024"}},
		{"negative batch timeout", with("--batch-timeout", "-1s"), nil, []string{`invalid --batch-timeout "-1s"`, "want a duration such as"}},
		{"garbage batch timeout", with("--batch-timeout", "soon"), nil, []string{`invalid --batch-timeout "soon"`, "want a duration such as"}},
		{"bad -C size", with("-w", file, "-C", "10XB"), nil, []string{`-C/--file-size: invalid size "10XB"`, "kB, MB"}},
		{"bad rcvbuf size", with("--rcvbuf", "lots"), nil, []string{`--rcvbuf: invalid size "lots"`, "kB, MB"}},
		{"rcvbuf too small", with("--rcvbuf", "1"), nil, []string{"invalid --rcvbuf 1", "allowed 4 KiB..1 GiB"}},
		{"rcvbuf-max below rcvbuf", with("--rcvbuf", "8MiB", "--rcvbuf-max", "1MiB"), nil, []string{"--rcvbuf-max 1MiB is smaller than --rcvbuf 8MiB", "allowed is --rcvbuf-max >= --rcvbuf"}},
		{"rcvbuf-max below the default rcvbuf", with("--rcvbuf-max", "1MiB"), nil, []string{"smaller than --rcvbuf 32MiB (the default)"}},
		{"-W without -C or -G", with("-w", file, "-W", "5"), nil, []string{"-W 5 needs -C SIZE or -G DURATION"}},
		{"--align without -G", with("-w", file, "-C", "1MB", "--align"), nil, []string{"--align needs -G DURATION"}},
		{"-z without rotation", with("-w", file, "-z", "true"), nil, []string{"-z and --compress", "need -C SIZE or -G DURATION"}},
		{"unknown compression", with("-w", file, "-C", "1MB", "--compress", "rar"), nil, []string{`invalid --compress "rar"`, "allowed gzip, zstd"}},
		{"file mode not octal", with("-w", file, "--file-mode", "rw-r--r--"), nil, []string{`invalid --file-mode "rw-r--r--"`, "octal permissions such as 0600"}},
		{"file mode out of range", with("-w", file, "--file-mode", "7777"), nil, []string{`invalid --file-mode "7777"`, "octal permissions such as 0600"}},
		{"-w into a missing directory", with("-w", filepath.Join(dir, "nope", "x.pcapng")), nil, []string{"directory " + filepath.Join(dir, "nope") + " does not exist"}},
		{"-w an existing file", with("-w", existing), nil, []string{existing + " already exists", "add --overwrite"}},
		{"-w a directory", with("-w", dir), nil, []string{dir + " is a directory", "name a file in it"}},
		{"-w - with rotation", with("-w", "-", "-C", "1MB"), nil, []string{"rotation and manifests need -w FILE, not standard output"}},
		{"--live a regular file", with("-w", file, "--live", existing), nil, []string{"--live " + existing + " exists and is not a FIFO", "mkfifo"}},
		{"netns that does not exist", with("--netns", "nflogcap-no-such-namespace"), nil, []string{"--netns nflogcap-no-such-namespace: network namespace not found", "ip netns list"}},
		{"unknown -Z user", with("-Z", "nflogcap-no-such-user"), nil, []string{"-Z nflogcap-no-such-user: no such user", "user name or uid"}},
		{"--count text", with("--count", "many"), nil, []string{`invalid -c/--count "many"`, "allowed 0.."}},
		{"--count negative", with("-c", "-1"), nil, []string{`invalid -c/--count "-1"`, "allowed 0.."}},
		{"--duration zero", with("--duration", "0s"), nil, []string{`invalid --duration "0s"`, "want a duration such as"}},
		{"--max-interfaces 0", with("--max-interfaces", "0"), nil, []string{`invalid --max-interfaces "0"`, "allowed 1.."}},
		{"bad boolean", with("--seq=maybe"), nil, []string{`invalid --seq "maybe"`, "true or false"}},
		{"unexpected positional argument", with("capture.pcapng"), nil, []string{`unexpected argument "capture.pcapng"`, "flags only"}},
		{"bad value from the environment", g, []string{"NFLOGCAP_QTHRESH=lots"}, []string{`invalid --qthresh "lots"`, "1..1024"}},
		{"recover without a path", []string{"recover"}, nil, []string{"recover needs one PATH"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stderr := relRunEnv(t, nil, tc.env, tc.args...)
			if code != 2 {
				t.Errorf("nflogcap %q: exit %d, want 2 (a command-line mistake)", tc.args, code)
			}
			relOneLine(t, stderr, tc.want...)
		})
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep me" {
		t.Errorf("the existing file was changed: %q", b)
	}
	if _, err := os.Stat(file); err == nil {
		t.Errorf("a bad invocation created %s", file)
	}

	// Failures at run time: exit 1.
	t.Run("group already bound by another nflogcap", func(t *testing.T) {
		ns := newE2ENS(t, relFaultRuleset)
		first := start(t, nil, "-g", "5000", "--netns", ns.Name, "-w", filepath.Join(t.TempDir(), "first.pcapng"))
		first.waitListening(t, 1)
		code, stderr := relRunEnv(t, nil, nil, "-g", "5000", "--netns", ns.Name, "-w", filepath.Join(t.TempDir(), "second.pcapng"))
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		relOneLine(t, stderr, "NFLOG group 5000 is already bound", `"nflogcap"`, "stop it or choose another group")
		relStop(t, first, 20*time.Second)
	})
	t.Run("not root and no CAP_NET_ADMIN", func(t *testing.T) {
		ns := nstest.New(t)
		nstest.Require(t, "setpriv")
		// The test binary's directory is world-readable (TestMain).
		code, stderr := relRunEnv(t, relAsNobody(ns.Name), nil, "-g", "5000")
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		relOneLine(t, stderr, "CAP_NET_ADMIN is required", "setcap cap_net_admin+ep")
	})
	t.Run("--netns names a file that is no namespace", func(t *testing.T) {
		nstest.Require(t)
		code, stderr := relRunEnv(t, nil, nil, "-g", "5000", "--netns", existing)
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		relOneLine(t, stderr, "network namespace not found", existing+" is not a namespace file")
	})
	t.Run("namespace gone at bind time", func(t *testing.T) {
		// -w FIFO waits for the FIFO's reader before binding: the
		// namespace is deleted meanwhile.
		nstest.Require(t)
		ns, err := netns.Create("nflogcap-test")
		if err != nil {
			t.Fatal(err)
		}
		closed := false
		t.Cleanup(func() {
			if !closed {
				ns.Close()
			}
		})
		fifo := filepath.Join(t.TempDir(), "wait.fifo")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Fatal(err)
		}
		p := start(t, nil, "-g", "5000", "--netns", ns.Name, "-w", fifo)
		deadline := time.Now().Add(10 * time.Second)
		for !bytes.Contains([]byte(p.stderr.String()), []byte("waiting for a reader")) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if err := ns.Close(); err != nil {
			t.Fatal(err)
		}
		closed = true
		r, err := os.Open(fifo) // lets nflogcap go on to bind
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		code := p.wait(t, 20*time.Second)
		if code != 1 {
			t.Errorf("exit %d, want 1; stderr:\n%s", code, p.stderr.String())
		}
		stderr := p.stderr.String()
		// The first line is the notice that it waits for the reader.
		first, rest, _ := bytes.Cut([]byte(stderr), []byte("\n"))
		if !bytes.Contains(first, []byte("waiting for a reader on FIFO")) {
			t.Errorf("first line %q, want the notice that it waits for the FIFO's reader", first)
		}
		relOneLine(t, string(rest), "network namespace not found", "ip netns list")
	})
	t.Run("-Z user cannot write the output directory", func(t *testing.T) {
		ns := nstest.New(t)
		rootOnly := t.TempDir()
		code, stderr := relRunEnv(t, nil, nil, "-g", "5000", "--netns", ns.Name, "-w", filepath.Join(rootOnly, "x.pcapng"), "-Z", "nobody")
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		relOneLine(t, stderr, "permission denied", "-Z user nobody")
	})
}
