package rotate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"
)

// compressed describes a file compressFile wrote.
type compressed struct {
	path   string
	sha256 string
	bytes  int64
}

// compressFile compresses src into src.gz or src.zst (through a .part file,
// fsynced and renamed like a capture file), checks that src still has the
// hash it had when written, and removes src. The hash of the output is
// computed as it is written.
func compressFile(ctx context.Context, src, kind, wantSHA256 string, mode os.FileMode, dir string) (compressed, error) {
	suffix := map[string]string{Gzip: gzSuffix, Zstd: zstSuffix}[kind]
	dst := src + suffix
	tmp := dst + partSuffix
	fail := func(err error) (compressed, error) {
		os.Remove(tmp)
		return compressed{}, fmt.Errorf("rotate: compress %s: %w", src, err)
	}
	in, err := os.Open(src)
	if err != nil {
		return fail(err)
	}
	defer in.Close()
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_CLOEXEC, mode)
	if err != nil {
		return compressed{}, fmt.Errorf("rotate: compress %s: %w", src, err) // tmp is not ours
	}
	defer out.Close()

	outHash := sha256.New()
	counted := &countingWriter{w: io.MultiWriter(out, outHash)}
	enc, err := newEncoder(kind, counted)
	if err != nil {
		return fail(err)
	}
	inHash := sha256.New()
	if _, err := io.Copy(enc, &ctxReader{ctx: ctx, r: io.TeeReader(in, inHash)}); err != nil {
		enc.Close()
		return fail(err)
	}
	if err := enc.Close(); err != nil {
		return fail(err)
	}
	if wantSHA256 != "" && hex.EncodeToString(inHash.Sum(nil)) != wantSHA256 {
		return fail(fmt.Errorf("content changed since it was written (sha256 %x, recorded %s)", inHash.Sum(nil), wantSHA256))
	}
	if err := out.Sync(); err != nil {
		return fail(err)
	}
	if err := out.Close(); err != nil {
		return fail(err)
	}
	if err := renameNoReplace(tmp, dst); err != nil {
		return fail(err)
	}
	if err := syncDir(dir); err != nil {
		return compressed{}, err
	}
	if err := os.Remove(src); err != nil {
		return compressed{}, fmt.Errorf("rotate: remove %s after compressing it: %w", src, err)
	}
	if err := syncDir(dir); err != nil {
		return compressed{}, err
	}
	return compressed{path: dst, sha256: hex.EncodeToString(outHash.Sum(nil)), bytes: counted.n}, nil
}

// newEncoder returns a single-threaded encoder at the default level: the
// capture keeps the other core.
func newEncoder(kind string, w io.Writer) (io.WriteCloser, error) {
	switch kind {
	case Gzip:
		return gzip.NewWriterLevel(w, gzip.DefaultCompression)
	case Zstd:
		return zstd.NewWriter(w, zstd.WithEncoderConcurrency(1))
	}
	return nil, fmt.Errorf("unknown compression %q", kind)
}

// newDecoder returns a reader of what was compressed into r; suffix is
// gzSuffix or zstSuffix.
func newDecoder(suffix string, r io.Reader) (io.ReadCloser, error) {
	switch suffix {
	case gzSuffix:
		return gzip.NewReader(r)
	case zstSuffix:
		d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		return d.IOReadCloser(), nil
	}
	return nil, fmt.Errorf("unknown compression suffix %q", suffix)
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// ctxReader stops a copy when ctx is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
