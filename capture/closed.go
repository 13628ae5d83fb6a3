package capture

import (
	"errors"
	"net"
	"os"
	"strings"
)

// isClosed reports whether err comes from using a socket or file after Close.
func isClosed(err error) bool {
	return errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrClosed) ||
		strings.Contains(err.Error(), "use of closed")
}
