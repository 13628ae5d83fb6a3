package capture

import (
	"bytes"
	"testing"

	"github.com/nflogcap/nflogcap/nflog"
	"github.com/nflogcap/nflogcap/pcapng"
	"github.com/nflogcap/nflogcap/rotate"
)

// writeFile encodes evs as one file of ours and returns its bytes and the
// Summary Close reported for it.
func writeFile(t *testing.T, evs []nflog.Event, lt pcapng.LinkType) ([]byte, rotate.Summary) {
	t.Helper()
	var buf bytes.Buffer
	cfg := &encoderConfig{linkType: lt, comments: true, maxInterfaces: DefaultMaxInterfaces, copyMode: nflog.CopyPacket, names: testNames}
	f := &fileOutput{cfg: cfg}
	f.pw = pcapng.NewWriter(&buf, nil)
	f.enc = newEncoder(cfg, f.pw)
	for i := range evs {
		if err := f.enc.write(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := f.Close(nil)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), sum
}

func sameSummary(a, b rotate.Summary) bool {
	return a.Packets == b.Packets && a.Lost == b.Lost && a.First.Equal(b.First) && a.Last.Equal(b.Last) &&
		a.HasSeq == b.HasSeq && a.SeqFirst == b.SeqFirst && a.SeqLast == b.SeqLast
}

// Scanning a file back gives what Close said of it, for every link type,
// with one group (a sequence range) and with two (none).
func TestScanMatchesClose(t *testing.T) {
	one := fixtureEvents(t)
	two := append([]nflog.Event(nil), one...)
	two[3].Group = 5001
	for _, lt := range []pcapng.LinkType{pcapng.LinkTypeRaw, pcapng.LinkTypeNFLOG, pcapng.LinkTypeLinuxSLL2} {
		for name, evs := range map[string][]nflog.Event{"one group": one, "two groups": two} {
			file, want := writeFile(t, evs, lt)
			got, err := (&fileOutput{}).Scan(bytes.NewReader(file))
			if err != nil {
				t.Fatalf("%v, %s: %v", lt, name, err)
			}
			if !sameSummary(got, want) {
				t.Errorf("%v, %s: Scan %+v\nClose %+v", lt, name, got, want)
			}
			if name == "one group" && (!want.HasSeq || want.Lost == 0) {
				t.Errorf("fixture gives no sequence range or loss to check: %+v", want)
			}
		}
	}
}

// A file cut short (a full disk) scans without error to fewer packets.
func TestScanTornFile(t *testing.T) {
	file, whole := writeFile(t, fixtureEvents(t), pcapng.LinkTypeRaw)
	got, err := (&fileOutput{}).Scan(bytes.NewReader(file[:len(file)/2]))
	if err != nil {
		t.Fatal(err)
	}
	if got.Packets == 0 || got.Packets >= whole.Packets {
		t.Errorf("half a file scans to %d packets of %d", got.Packets, whole.Packets)
	}
}

func TestInterfaceGroup(t *testing.T) {
	for name, want := range map[string]int{"nflog:5000": 5000, "nflog:5000:ssh-drop": 5000, "nflog:7:a/sll2": 7,
		"nflog:5000/sll2": 5000, "nflog:overflow": -1, "nflog:overflow/sll2": -1, "eth0": -1, "nflog:70000": -1} {
		if got := interfaceGroup(name); got != want {
			t.Errorf("interfaceGroup(%q) = %d, want %d", name, got, want)
		}
	}
}
