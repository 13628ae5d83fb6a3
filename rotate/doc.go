// Package rotate writes a capture into a directory of files that rotate by
// size or time, keep a ring of the newest N, survive crashes, and carry a
// manifest of hashes, as forensic archives need.
//
// A file is written as NAME.part through an internal/directio Writer (a
// goroutine of its own, O_DIRECT on request) and flushed at least every
// FlushInterval, so a crash loses about a second. When it is done it is
// fsynced, renamed to NAME and the directory fsynced by the finisher, a
// goroutine of its own, while the capture goes on into the next file. At
// most one closed file is being finished at a time: a rotation waits only
// when the previous file is still being finished (a slow fsync, or files so
// small that rotations come faster than fsyncs). That bound keeps memory
// and descriptors fixed (each file waiting holds its write buffers and its
// descriptor), and in ring mode it keeps files that cannot be deleted yet
// (they are not finished) from piling up on a full disk. Leftover .part
// files from a crash are found and repaired by Recover.
//
// File names are base_SEQ_START.ext, for example
// fw_0000000042_20261203T181409Z.pcapng: a sequence number of ten digits
// that continues after the highest one already in the directory, and the
// UTC time the file was started. They sort in sequence order, which is time
// order, up to 10^10 files (317 years at a rotation a second, 115 days at
// 1,000 a second, more than the finisher's fsyncs sustain). Names of five
// digits or more are recognised as this base's files, so the sequence
// continues after files that were padded to five digits (fw_00042_...); in
// a directory holding both, ls lists the old ones after the new, while the
// ring, which orders by the number, deletes them
// first. A file is created with O_EXCL and renamed with RENAME_NOREPLACE,
// so nothing is overwritten; a name already taken is skipped by bumping the
// sequence.
//
// With Config.Align files start at whole multiples of Config.Interval since
// the Unix epoch, UTC: for an interval that divides 24 h, on the wall-clock
// boundaries counted from midnight (1h on the hour).
//
// The package is format-aware only through Hooks: Hooks.Open writes a file's
// header, Hooks.Close its trailer and returns the Summary the manifest
// records, and Hooks that are also a Scanner read a finished file back. It
// never splits a Write: callers write whole records and call RotateIfDue
// between them.
//
// With Config.Manifest the directory holds MANIFEST.sha256, which
// `sha256sum -c MANIFEST.sha256` verifies at any moment (it is rewritten
// atomically, and files the ring deletes leave it), and MANIFEST.jsonl, an
// append-only log with one record per finished file and per deletion. A run
// killed between finishing a file and recording it (or deleting a file and
// recording that) leaves the two apart; the next Open reconciles them in
// the background: unrecorded finished files are hashed and recorded
// ("reconciled": true), listed files that are gone get a "deleted" record
// ("missing"), and a compression cut short is undone (the uncompressed
// original is kept).
//
// A write error (disk full) cuts a file back to its last complete record
// and stops the Rotator with a *WriteError, whether the file is the current
// one or the previous one being finished after a rotation. The bytes cut,
// and the packets among them when the Hooks can scan, go to the file's
// manifest record (cut_bytes, cut_packets) and Stats.
//
// One capture owns a directory at a time: Open takes an flock on
// .nflogcap.lock in it.
package rotate
