// Package capture joins NFLOG listeners to outputs: pcapng files (single or
// rotating), live pipes (stdout or a FIFO) and a one-line-per-packet text
// view. It is the only package that knows nflog, pcapng and rotate.
//
// Each group has its own listener and read loop. A read loop takes a batch
// from the kernel, and, holding the pipeline's lock, encodes it into every
// output and flushes: one write per batch per output. A ticker makes the
// once-a-second durability flush and time-based rotation happen even when no
// packet comes.
//
// The live view (--live) is the one output that never holds the capture
// back: it skips batches while its reader lags a queue behind (counting them
// as drops of its stream), and at the end gives its reader a bounded time
// before it cuts the stream off. The main output's writer (-w) is waited
// for: it is the capture.
package capture
