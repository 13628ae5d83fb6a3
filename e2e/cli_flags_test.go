package e2e_test

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cliFlagRun captures 3 datagrams to web-in (input) and 2 to dns-out
// (output) with extra flags, and returns tshark's rows of interface name,
// comment, captured length and packet id, and nflogcap's stderr.
func cliFlagRun(t *testing.T, nsArgs []string, extra ...string) ([][]string, string) {
	t.Helper()
	ns := liveNS(t, "tshark")
	if nsArgs == nil {
		nsArgs = []string{"--netns", ns.Name}
	} else {
		nsArgs = cliNetnsPIDArgs(t, ns.Name)
	}
	file := filepath.Join(t.TempDir(), "f.pcapng")
	args := append(append([]string{"-g", "5000", "-w", file}, nsArgs...), extra...)
	p := liveStart(t, nil, nil, args...)
	p.waitListening(t, 1)
	s := newUDPSender(t, ns, "udp4")
	s.send(t, "127.0.0.1:7001", 0, 3, 100)
	s.send(t, "127.0.0.1:7002", 3, 2, 100)
	time.Sleep(300 * time.Millisecond)
	liveStop(t, p, syscall.SIGINT)
	stderr := p.stderr.String()
	cliNoCrash(t, stderr)
	rows := tsharkFields(t, file, "frame.interface_name", "frame.comment", "frame.cap_len", "frame.packet_id")
	if len(rows) != 5 {
		t.Fatalf("%v: tshark reads %d packets, want 5:\n%v\nstderr:\n%s", extra, len(rows), rows, stderr)
	}
	return rows, stderr
}

// cliNetnsPIDArgs starts a process in the named namespace and returns
// --netns /proc/PID/ns/net for it; the process ends with the test.
func cliNetnsPIDArgs(t *testing.T, name string) []string {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", name, "sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	path := "/proc/" + strconv.Itoa(cmd.Process.Pid) + "/ns/net"
	// ip netns exec enters the namespace, then execs sleep: wait for that.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := exec.Command("readlink", path).Output(); err == nil {
			if self, _ := exec.Command("readlink", "/proc/self/ns/net").Output(); string(b) != string(self) {
				return []string{"--netns", path}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never entered namespace %s", path, name)
	return nil
}

// Each capture option that changes what a file holds does so, as tshark
// reads it.
func TestCLIFlagsChangeTheFile(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ns    []string // non-nil: --netns /proc/PID/ns/net instead of the name
		args  []string
		check func(t *testing.T, rows [][]string, stderr string)
	}{
		{"defaults", nil, nil, func(t *testing.T, rows [][]string, stderr string) {
			if !strings.Contains(stderr, ", copy packet, snaplen 65531, batch 1024 packets / 10ms, flags seq, receive buffer 32 MiB (grows to 64 MiB), link type RAW\n") {
				t.Errorf("the listening line does not give the defaults:\n%s", stderr)
			}
			for i, r := range rows {
				// The sequence number is the packet id; the comment does not repeat it.
				if !strings.HasPrefix(r[1], "hook=") || strings.Contains(r[1], "seq=") || r[3] != strconv.Itoa(i) || r[2] != "128" {
					t.Errorf("packet %d: %q, want a comment without seq=, packet id %d and all 128 bytes", i, r, i)
				}
			}
		}},
		{"no-comments", nil, []string{"--no-comments"}, func(t *testing.T, rows [][]string, _ string) {
			for i, r := range rows {
				if r[1] != "" || r[3] == "" {
					t.Errorf("packet %d: %q, want no comment and a packet id", i, r)
				}
			}
		}},
		{"seq off", nil, []string{"--seq=false"}, func(t *testing.T, rows [][]string, stderr string) {
			for i, r := range rows {
				if strings.Contains(r[1], "seq=") || r[3] != "" {
					t.Errorf("packet %d: %q, want no sequence number anywhere", i, r)
				}
			}
			if !strings.Contains(stderr, "flags none") {
				t.Errorf("the listening line does not say flags none:\n%s", stderr)
			}
		}},
		{"seq-global", nil, []string{"--seq-global"}, func(t *testing.T, rows [][]string, _ string) {
			for i, r := range rows {
				if !strings.Contains(r[1], "seqglobal=") {
					t.Errorf("packet %d: %q, want seqglobal= in the comment", i, r)
				}
			}
		}},
		{"copy-mode meta", nil, []string{"--copy-mode", "meta"}, func(t *testing.T, rows [][]string, _ string) {
			for i, r := range rows {
				// Raw IP cannot carry a packet without payload: the
				// SLL2 interface of its prefix, with the 20-byte header.
				if !strings.HasSuffix(r[0], "/sll2") || r[2] != "20" {
					t.Errorf("packet %d: %q, want an /sll2 interface and 20 bytes", i, r)
				}
			}
		}},
		{"copy-mode none", nil, []string{"--copy-mode", "none"}, func(t *testing.T, rows [][]string, _ string) {
			for i, r := range rows {
				if !strings.HasSuffix(r[0], "/sll2") || r[2] != "20" {
					t.Errorf("packet %d: %q, want an /sll2 interface and 20 bytes", i, r)
				}
			}
		}},
		{"snaplen", nil, []string{"-s", "40"}, func(t *testing.T, rows [][]string, _ string) {
			for i, r := range rows {
				if r[2] != "40" {
					t.Errorf("packet %d: %q, want 40 bytes", i, r)
				}
			}
		}},
		{"ordinary writes", nil, []string{"--direct-io=false"}, func(t *testing.T, rows [][]string, _ string) {}},
		{"family ipv4 only", nil, []string{"--family", "ipv4"}, func(t *testing.T, rows [][]string, _ string) {}},
		{"netns by path", []string{}, nil, func(t *testing.T, rows [][]string, stderr string) {
			if !strings.Contains(stderr, "/ns/net") {
				t.Errorf("the listening line does not name the namespace path:\n%s", stderr)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, stderr := cliFlagRun(t, tc.ns, tc.args...)
			names := map[string]int{}
			for _, r := range rows {
				names[strings.TrimSuffix(r[0], "/sll2")]++
			}
			if names["nflog:5000:web-in"] != 3 || names["nflog:5000:dns-out"] != 2 {
				t.Errorf("packets per interface %v, want 3 on web-in and 2 on dns-out", names)
			}
			tc.check(t, rows, stderr)
		})
	}
}
