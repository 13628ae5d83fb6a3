//go:build linux

package directio

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// benchDirEnv overrides where BenchmarkWrite puts its files; it must be on a
// disk, as a capture's output would be.
const benchDirEnv = "DIRECTIO_BENCH_DIR"

// BenchmarkWrite writes 400 MB in 64 KiB writes (a batch of packets each)
// with O_DIRECT and with ordinary writes, including the final fsync, and
// reports the process's CPU time per byte (user+sys from getrusage, which
// includes the writer goroutine):
//
//	go test -run '^$' -bench Write -benchtime 3x ./internal/directio
func BenchmarkWrite(b *testing.B) {
	dir := os.Getenv(benchDirEnv)
	if dir == "" {
		dir = b.TempDir()
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		b.Fatal(err)
	}
	if st.Type == unix.TMPFS_MAGIC || st.Type == unix.RAMFS_MAGIC {
		b.Skipf("%s is in memory; set %s to a directory on a disk", dir, benchDirEnv)
	}
	const total = 400 << 20
	chunk := make([]byte, 64<<10)
	for i := range chunk {
		chunk[i] = byte(i * 7)
	}
	for _, direct := range []bool{true, false} {
		name := map[bool]string{true: "direct", false: "buffered"}[direct]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(total)
			var cpu, sys time.Duration
			var isDirect bool
			for i := 0; i < b.N; i++ {
				path := filepath.Join(dir, name+strconv.Itoa(i))
				u0, s0 := rusage(b)
				w, err := Create(path, 0o600, &Options{Direct: direct})
				if err != nil {
					b.Fatal(err)
				}
				for n := 0; n < total; n += len(chunk) {
					if _, err := w.Write(chunk); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
				u1, s1 := rusage(b)
				cpu += u1 - u0 + s1 - s0
				sys += s1 - s0
				isDirect = w.Stats().Direct
				b.StopTimer()
				os.Remove(path)
				b.StartTimer()
			}
			if direct && !isDirect {
				b.Logf("O_DIRECT refused by the filesystem of %s; measured ordinary writes", dir)
			}
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(int64(b.N)*total), "cpu-ns/B")
			b.ReportMetric(float64(sys.Nanoseconds())/float64(int64(b.N)*total), "sys-ns/B")
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}

func rusage(b *testing.B) (user, sys time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}
