//go:build !linux

package nflog

import (
	"context"
	"io"
	"time"
)

// Listener receives the packets logged to one NFLOG group. NFLOG exists only
// on Linux; elsewhere Listen returns ErrNotSupported.
type Listener struct{}

// Listen returns ErrNotSupported on this platform.
func Listen(cfg *Config) (*Listener, error) { return ListenContext(context.Background(), cfg) }

// ListenContext returns ErrNotSupported on this platform (after validating cfg).
func ListenContext(ctx context.Context, cfg *Config) (*Listener, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return nil, ErrNotSupported
}

func (l *Listener) Config() Config                    { return Config{} }
func (l *Listener) PortID() uint32                    { return 0 }
func (l *Listener) Stats() Stats                      { return Stats{} }
func (l *Listener) SetReadDeadline(t time.Time) error { return ErrNotSupported }
func (l *Listener) Receive() ([]Event, error)         { return nil, io.EOF }
func (l *Listener) Unbind() error                     { return ErrNotSupported }
func (l *Listener) Close() error                      { return nil }
func (l *Listener) Rebind() error                     { return ErrNotSupported }
