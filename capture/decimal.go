package capture

import "strconv"

// decimalCounter formats numbers that mostly grow by one from call to call,
// as a group's sequence numbers do, by counting up the previous text in
// place instead of formatting each one anew (strconv took a tenth of
// encoding a packet in a flood).
type decimalCounter struct {
	n    uint32
	text []byte // the decimal text of n; its array is buf
	buf  [10]byte
}

// format returns n in decimal, valid until the next call.
func (c *decimalCounter) format(n uint32) []byte {
	switch {
	case c.text != nil && n == c.n:
	case c.text != nil && n == c.n+1 && n != 0 && c.countUp():
	default:
		c.text = strconv.AppendUint(c.buf[:0], uint64(n), 10)
	}
	c.n = n
	return c.text
}

// countUp adds one to the text, or reports false when that needs one more
// digit (9 to 10, 99 to 100, ...), which format then writes anew.
func (c *decimalCounter) countUp() bool {
	for i := len(c.text) - 1; i >= 0; i-- {
		if c.text[i] != '9' {
			c.text[i]++
			for j := i + 1; j < len(c.text); j++ {
				c.text[j] = '0'
			}
			return true
		}
	}
	return false
}
