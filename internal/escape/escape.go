// Package escape makes untrusted bytes (NFLOG log prefixes, interface names)
// safe to put in a pcapng string option, a file name or a terminal.
//
// Printable UTF-8 passes through unchanged. A backslash becomes `\\`; control
// characters (C0, DEL and C1), invalid UTF-8 and the Unicode line and paragraph
// separators become `\xNN` per byte, so the result is valid UTF-8, one line, and
// the original bytes can be read back from it.
package escape

import "unicode/utf8"

const hexDigits = "0123456789abcdef"

// Append appends the escaped form of b to dst and returns the extended slice.
// It allocates only when dst lacks capacity.
func Append(dst, b []byte) []byte {
	for i := 0; i < len(b); {
		c := b[i]
		if c >= 0x20 && c < 0x7f {
			if c == '\\' {
				dst = append(dst, '\\', '\\')
			} else {
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 || !printable(r) {
			for j := 0; j < size || j == 0; j++ {
				dst = appendHex(dst, b[i+j])
			}
			if size == 0 {
				size = 1
			}
			i += size
			continue
		}
		dst = append(dst, b[i:i+size]...)
		i += size
	}
	return dst
}

// String returns the escaped form of b as a string.
func String(b []byte) string { return string(Append(nil, b)) }

// Needed reports whether Append would change b.
func Needed(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c >= 0x20 && c < 0x7f {
			if c == '\\' {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 || !printable(r) {
			return true
		}
		i += size
	}
	return false
}

func appendHex(dst []byte, c byte) []byte {
	return append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
}

// printable reports whether a non-ASCII rune may be shown as is. C1 controls
// and the line/paragraph separators would break a line or steer a terminal.
func printable(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
		return false
	case r == 0x2028, r == 0x2029:
		return false
	}
	return true
}
