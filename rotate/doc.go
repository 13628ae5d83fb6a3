// Package rotate writes a capture into a directory of files that rotate by
// size or time, keep a ring of the newest N, survive crashes, and carry a
// manifest of hashes, as forensic archives need.
//
// A file is written as NAME.part through an internal/directio Writer (a
// goroutine of its own, O_DIRECT on request) and flushed at least every
// FlushInterval, so a crash loses about a second. When it is done it is
// fsynced, renamed to NAME and the directory fsynced, in the background, so
// the capture never waits for the disk at a rotation. Leftover .part files
// from a crash are found and repaired by Recover.
//
// File names are base_SEQ_START.ext, for example fw_00042_20261203T181409Z.pcapng:
// a sequence number of at least five digits that continues after the
// highest one already in the directory, and the UTC time the file was
// started. They sort in time order (up to sequence 99999). A file is created
// with O_EXCL and renamed with RENAME_NOREPLACE, so nothing is overwritten; a
// name already taken is skipped by bumping the sequence.
//
// The package is format-aware only through Hooks: Hooks.Open writes a file's
// header, Hooks.Close its trailer and returns the Summary the manifest
// records. It never splits a Write: callers write whole records and call
// RotateIfDue between them.
//
// With Config.Manifest the directory holds MANIFEST.sha256, which
// `sha256sum -c MANIFEST.sha256` verifies at any moment (it is rewritten
// atomically, and files the ring deletes leave it), and MANIFEST.jsonl, an
// append-only log with one record per finished file and per deletion.
//
// One capture owns a directory at a time: Open takes an flock on
// .nflogcap.lock in it.
package rotate
