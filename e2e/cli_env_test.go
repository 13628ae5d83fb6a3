package e2e_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// NFLOGCAP_GROUP, NFLOGCAP_WRITE, NFLOGCAP_DURATION and
// NFLOGCAP_BATCH_TIMEOUT configure a capture exactly as -g, -w, --duration
// and --batch-timeout do.
func TestCLIEnvConfigures(t *testing.T) {
	ns := liveNS(t, "tshark", "capinfos")
	dir := t.TempDir()
	capture := func(name string, env []string, args ...string) (string, []string) {
		t.Helper()
		file := filepath.Join(dir, name+".pcapng")
		if len(env) > 0 {
			env = append(env, "NFLOGCAP_WRITE="+file)
		} else {
			args = append(args, "-w", file)
		}
		p := liveStart(t, env, nil, append([]string{"--netns", ns.Name}, args...)...)
		p.waitListening(t, 2)
		s := newUDPSender(t, ns, "udp4")
		s.send(t, "127.0.0.1:7001", 0, 2, 50)
		s.send(t, "127.0.0.1:7011", 2, 1, 50)
		if code := p.wait(t, 10*time.Second); code != 0 {
			t.Fatalf("%s: exit %d; stderr:\n%s", name, code, p.stderr.String())
		}
		stderr := p.stderr.String()
		liveStatsLines(t, stderr, 3)
		var listening []string
		for _, line := range strings.Split(stderr, "\n") {
			if strings.HasPrefix(line, "listening on") {
				listening = append(listening, line)
			}
		}
		return file, listening
	}
	fFile, fLines := capture("flags", nil, "-g", "5000", "-g", "5001", "--duration", "1s", "--batch-timeout", "20ms")
	eFile, eLines := capture("env", []string{"NFLOGCAP_GROUP=5000,5001", "NFLOGCAP_DURATION=1s", "NFLOGCAP_BATCH_TIMEOUT=20ms"})
	if strings.Join(fLines, "\n") != strings.Join(eLines, "\n") || len(eLines) != 2 || !strings.Contains(eLines[0], "/ 20ms") {
		t.Errorf("listening lines differ between flags and environment:\nflags:\n%s\nenvironment:\n%s", strings.Join(fLines, "\n"), strings.Join(eLines, "\n"))
	}
	want := map[string]int{"nflog:5000:web-in": 2, "nflog:5001:x": 1}
	cliCheckFile(t, fFile, want)
	cliCheckFile(t, eFile, want)
}

// A bad value from the environment gets the same one-line error, and exit
// status, as the same value given as a flag.
func TestCLIEnvBadValue(t *testing.T) {
	ns := liveNS(t) // only so that a value wrongly accepted binds there, not on the host
	for _, tc := range []struct {
		name string
		env  string
		flag []string
	}{
		{"group out of range", "NFLOGCAP_GROUP=70000", []string{"-g", "70000"}},
		{"group not a number", "NFLOGCAP_GROUP=web", []string{"-g", "web"}},
		{"duration", "NFLOGCAP_DURATION=soon", []string{"--duration", "soon"}},
		{"batch timeout", "NFLOGCAP_BATCH_TIMEOUT=-5ms", []string{"--batch-timeout", "-5ms"}},
		{"snaplen", "NFLOGCAP_SNAPLEN=70000", []string{"-s", "70000"}},
		{"linktype", "NFLOGCAP_LINKTYPE=ether", []string{"--linktype", "ether"}},
		{"rcvbuf", "NFLOGCAP_RCVBUF=lots", []string{"--rcvbuf", "lots"}},
		{"bool", "NFLOGCAP_SEQ=maybe", []string{"--seq=maybe"}},
		{"short bool", "NFLOGCAP_QUIET=sometimes", []string{"-q=sometimes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := []string{"--netns", ns.Name, "-w", filepath.Join(t.TempDir(), "never.pcapng")}
			group := []string{"-g", "5000"}
			if strings.HasPrefix(tc.env, "NFLOGCAP_GROUP=") {
				group = nil
			}
			fCode, fOut, fErr := liveRun(t, nil, append(append(base, group...), tc.flag...)...)
			eCode, eOut, eErr := liveRun(t, []string{tc.env}, append(base, group...)...)
			if fCode != 2 || eCode != 2 {
				t.Errorf("exit %d with the flag, %d with the environment, want 2 (bad command line)", fCode, eCode)
			}
			if fErr != eErr {
				t.Errorf("different errors:\nflag %v:\n  %q\nenvironment %s:\n  %q", tc.flag, fErr, tc.env, eErr)
			}
			for _, msg := range []string{fErr, eErr} {
				if strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "nflogcap: ") || !strings.HasSuffix(msg, "\n") {
					t.Errorf("want one line starting with \"nflogcap: \", got:\n%s", msg)
				}
				value := tc.env[strings.IndexByte(tc.env, '=')+1:]
				if !strings.Contains(msg, value) {
					t.Errorf("error does not name the value %q: %s", value, msg)
				}
			}
			cliNoCrash(t, fErr+eErr)
			if fOut != "" || eOut != "" {
				t.Errorf("output on stdout: %q, %q", fOut, eOut)
			}
		})
	}
}
