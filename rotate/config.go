package rotate

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Hooks make the files of a rotation stand alone in their format. rotate
// calls them from the goroutine that calls Open, Write, RotateIfDue, Rotate
// and Close.
type Hooks interface {
	// Open is called after a new file is created; it writes the format's
	// header (for pcapng, a Section Header and the Interface Description
	// Blocks) through w.
	Open(w io.Writer, f FileInfo) error

	// Close is called before a file is closed; it writes the format's trailer
	// (for pcapng, Interface Statistics Blocks) through w and returns what
	// the manifest records about the file. It is called once per file, also
	// for a file a write error ended (then the trailer cannot be written and
	// w fails): it should return its Summary of what was written even with
	// an error, since the count of packets a cut lost comes from it.
	Close(w io.Writer) (Summary, error)
}

// Scanner may be implemented by Hooks to read back a file of their format.
// rotate uses it where what Close reported does not describe the file on
// disk:
//
//   - a file a write error cut short (disk full): the manifest records what
//     the kept part holds, and how many packets were cut (Close's count
//     minus the scan's), which Stats sums up;
//   - a finished file that an earlier run did not record in the manifest
//     (it was killed between the rename and the record, or while the file
//     waited for compression): Open records it with the scan's Summary.
//
// Without a Scanner those records carry no packet counts (unknown). Scan is
// called from a background goroutine, at the same time as Open and Close,
// and must not share their state. r yields the file's bytes (decompressed,
// for a compressed file); Scan reads whole records and ignores a torn end.
type Scanner interface {
	Scan(r io.Reader) (Summary, error)
}

// FileInfo describes a file being started.
type FileInfo struct {
	Path  string    // final path, without .part
	Name  string    // final base name
	Seq   int       // sequence number in the name; 0 in Single mode
	Start time.Time // time the file was started (Config.Clock)
}

// Summary is what a file holds, as Hooks.Close reports it for the manifest.
type Summary struct {
	Packets           uint64    // packets in the file
	Lost              uint64    // packets the sequence numbers say were lost
	First, Last       time.Time // first and last packet timestamps
	SeqFirst, SeqLast uint64    // sequence range, when HasSeq
	HasSeq            bool      // the capture had sequence numbers
}

// Compression names for Config.Compress.
const (
	Gzip = "gzip"
	Zstd = "zstd"
)

// Config configures a Rotator. Zero fields mean the defaults given.
type Config struct {
	// Path names the output: /srv/cap/fw.pcapng means directory /srv/cap,
	// base name "fw" and extension ".pcapng". The directory must exist.
	Path string

	// MaxBytes rotates when the current file reaches this many bytes
	// (checked by RotateIfDue, so a file ends at the first record boundary
	// at or past it). 0: no size limit.
	MaxBytes int64

	// Interval rotates when a file has been open this long (checked by
	// RotateIfDue). 0: no time limit.
	Interval time.Duration

	// Align starts files at the instants that are whole multiples of
	// Interval since the Unix epoch, 1970-01-01T00:00:00Z (leap seconds
	// not counted, as in Unix time), instead of Interval after the previous
	// start. For an interval that divides 24 h this is UTC wall-clock time
	// counted from midnight: 1h on the hour, 15m at :00, :15, :30 and :45,
	// 6h at 00:00, 06:00, 12:00 and 18:00. Other intervals run on across
	// midnight as the epoch's multiples fall (7h: 2026-12-03T14:00Z,
	// 21:00, 04:00 the next day, 11:00, ...). The first file is shorter.
	Align bool

	// MaxFiles keeps a ring of the newest MaxFiles files of this base name in
	// the directory, counting the one being written and files left by earlier
	// runs, deleting the oldest. 0: keep all.
	MaxFiles int

	// FileMode is the mode of created files. Default 0600: packets are
	// sensitive.
	FileMode os.FileMode

	// Compress compresses each finished file in the background: "" (no),
	// "gzip" or "zstd". Wireshark reads both.
	Compress string

	// CompressBacklog bounds how many finished files may wait for
	// compression; a file arriving when it is full stays uncompressed, and
	// Logf says so. Default 4.
	CompressBacklog int

	// PostRotate is a command (argv, no shell) run in the background for each
	// finished file, after compression, with the file's path appended.
	// Failures are reported through Logf with the exit status and the end of
	// its standard error.
	PostRotate []string

	// FlushInterval is how often Tick hands buffered data to the disk (and,
	// in the background, fdatasyncs it). Default 1s: what a crash may lose.
	FlushInterval time.Duration

	// CloseTimeout bounds how long Close waits for background compression
	// and post-rotate commands; then they are stopped, and files not yet
	// compressed are recorded uncompressed. Default 1 minute.
	CloseTimeout time.Duration

	// Direct writes with O_DIRECT where the filesystem supports it.
	Direct bool

	// BufferSize and Buffers size the write buffers of each file (see
	// internal/directio.Options). Defaults 4 MiB and 4.
	BufferSize, Buffers int

	// Manifest writes MANIFEST.sha256 and MANIFEST.jsonl in the directory.
	Manifest bool

	// Single writes exactly Path, with no sequence, no timestamp and no
	// .part name, as `-w out.pcapng` does. Rotation settings must be zero.
	Single bool

	// Overwrite lets Single mode replace an existing Path. Rotated names are
	// never overwritten.
	Overwrite bool

	// Clock returns the current time. Default time.Now.
	Clock func() time.Time

	// Logf receives warnings and events: deleted oldest files, leftover .part
	// files, what Open reconciled with the manifest, compression backlog
	// full, post-rotate failures. Default: none.
	Logf func(format string, args ...any)

	// Hooks writes each file's header and trailer. nil: files hold only
	// what Write writes, and manifest records have no packet counts. Hooks
	// that also implement Scanner let the manifest count packets in files
	// cut by a write error and in files found unrecorded at Open.
	Hooks Hooks
}

func (c Config) withDefaults() Config {
	if c.FileMode == 0 {
		c.FileMode = 0o600
	}
	if c.CompressBacklog <= 0 {
		c.CompressBacklog = 4
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = time.Second
	}
	if c.CloseTimeout <= 0 {
		c.CloseTimeout = time.Minute
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
	return c
}

func (c Config) validate() error {
	var errs []error
	if c.Path == "" {
		errs = append(errs, errors.New("empty path"))
	}
	if c.MaxBytes < 0 || c.Interval < 0 || c.MaxFiles < 0 {
		errs = append(errs, errors.New("negative size, interval or file count"))
	}
	if c.Align && c.Interval == 0 {
		errs = append(errs, errors.New("aligned rotation needs an interval"))
	}
	if c.Compress != "" && c.Compress != Gzip && c.Compress != Zstd {
		errs = append(errs, fmt.Errorf("unknown compression %q (want gzip or zstd)", c.Compress))
	}
	if c.Single && (c.MaxBytes != 0 || c.Interval != 0 || c.MaxFiles != 0 || c.Compress != "") {
		errs = append(errs, errors.New("single-file output cannot rotate, keep a ring or compress"))
	}
	if c.Overwrite && !c.Single {
		errs = append(errs, errors.New("overwrite applies to single-file output only"))
	}
	if len(c.PostRotate) > 0 && c.PostRotate[0] == "" {
		errs = append(errs, errors.New("empty post-rotate command"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("rotate: config for %s: %w", c.Path, err)
	}
	return nil
}
