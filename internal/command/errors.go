package command

import "errors"

// UsageError is a mistake in the command line: main exits 2 for it, 1 for
// other errors.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usagef(format string, args ...any) error {
	return &UsageError{Err: errorf(format, args...)}
}

// IsUsage reports whether err is a command-line mistake.
func IsUsage(err error) bool {
	var ue *UsageError
	return errors.As(err, &ue)
}
