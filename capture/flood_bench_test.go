package capture

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/nflogcap/nflogcap/internal/directio"
	"github.com/nflogcap/nflogcap/internal/nflogtest"
	"github.com/nflogcap/nflogcap/nflog"
	"github.com/nflogcap/nflogcap/pcapng"
	"github.com/nflogcap/nflogcap/rotate"
)

// floodDatagram is one kernel batch as the performance harness makes it:
// count messages of the loopback input fixture (default flags: seq only)
// carrying size-byte UDP payloads, numbered from seq.
func floodDatagram(t testing.TB, count, size int, seq uint32) []byte {
	t.Helper()
	ev := fixtureEvents(t)[0]
	ev.Present &^= nflog.AttrSeqGlobal
	ip := make([]byte, 28+size)
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
	ip[9] = 17
	copy(ip[12:], []byte{127, 0, 0, 1, 127, 0, 0, 1})
	binary.BigEndian.PutUint16(ip[22:], 9)
	binary.BigEndian.PutUint16(ip[24:], uint16(8+size))
	ev.Payload = ip
	var b []byte
	for i := range count {
		ev.Seq = seq + uint32(i)
		b = append(b, nflogtest.Packet(&ev)...)
	}
	return b
}

// BenchmarkFlood is the user-space work of a flood per packet, after the
// read: parse a kernel batch, encode it with the default settings (raw IP,
// comments) and write it through internal/directio's 4 MiB buffers: to a
// file (O_DIRECT, rotating at 64 MB so disk use stays bounded), as the
// capture does, and to /dev/null, which takes the disk out of the numbers.
// cpu-ns/packet counts the whole process, the writer's goroutine included.
func BenchmarkFlood(b *testing.B) {
	for _, size := range []int{64, 1400} {
		// What 128 KiB of kernel batch holds.
		count := map[int]int{64: 700, 1400: 85}[size]
		dg := floodDatagram(b, count, size, 0)
		cfg := &encoderConfig{linkType: pcapng.LinkTypeRaw, comments: true, maxInterfaces: 100, copyMode: nflog.CopyPacket, names: testNames}
		name := map[int]string{64: "64B", 1400: "1400B"}[size]
		b.Run(name+"/file", func(b *testing.B) {
			f, err := openFileOutput(rotate.Config{
				Path: filepath.Join(b.TempDir(), "flood.pcapng"), MaxBytes: 64 << 20, MaxFiles: 2, Direct: true,
			}, cfg, "bench")
			if err != nil {
				b.Fatal(err)
			}
			defer f.close()
			benchFlood(b, dg, count, f.writeBatch)
		})
		b.Run(name+"/devnull", func(b *testing.B) {
			null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
			if err != nil {
				b.Fatal(err)
			}
			dw := directio.NewWriter(null, nil)
			defer dw.Close()
			pw := pcapng.NewWriter(dw, nil)
			enc := newEncoder(cfg, pw)
			benchFlood(b, dg, count, func(evs []nflog.Event) error {
				for i := range evs {
					if err := enc.write(&evs[i]); err != nil {
						return err
					}
				}
				return pw.Flush()
			})
		})
	}
}

func benchFlood(b *testing.B, dg []byte, count int, write func([]nflog.Event) error) {
	evs := make([]nflog.Event, 0, count)
	now := time.Now()
	b.ReportAllocs()
	b.SetBytes(int64(len(dg)))
	cpu0 := processCPU(b)
	for b.Loop() {
		evs, _ = nflog.ParseDatagram(dg, now, evs[:0])
		if err := write(evs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*count), "ns/packet")
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N*count), "cpu-ns/packet")
}

// processCPU is the user and system CPU time the process has used, in ns.
func processCPU(t testing.TB) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
