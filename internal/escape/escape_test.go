package escape

import (
	"bytes"
	"testing"
	"unicode/utf8"
)

func TestAppend(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"ssh-drop", "ssh-drop"},
		{"dns in: ", "dns in: "},
		{"back\\slash", `back\\slash`},
		{"tab\there", `tab\x09here`},
		{"nl\n", `nl\x0a`},
		{"esc\x1b[31mred", `esc\x1b[31mred`},
		{"del\x7f", `del\x7f`},
		{"bad\xff\xfeutf8", `bad\xff\xfeutf8`},
		{"trunc\xe2\x82", `trunc\xe2\x82`},
		{"c1\xc2\x9b", `c1\xc2\x9b`},
		{"ls\u2028", `ls\xe2\x80\xa8`},
		{"café ✓", "café ✓"},
		{"nul\x00", `nul\x00`},
	}
	for _, tt := range tests {
		got := string(Append(nil, []byte(tt.in)))
		if got != tt.want {
			t.Errorf("Append(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if Needed([]byte(tt.in)) != (tt.in != tt.want) {
			t.Errorf("Needed(%q) = %v, want %v", tt.in, !(tt.in != tt.want), tt.in != tt.want)
		}
	}
}

func TestAppendNoAlloc(t *testing.T) {
	in := []byte("prefix\x01with\xffjunk")
	buf := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() { buf = Append(buf[:0], in) }); n != 0 {
		t.Fatalf("Append allocated %v times per run, want 0", n)
	}
}

// unescape reverses Append, to show that escaping loses nothing.
func unescape(s []byte) []byte {
	var out []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			out = append(out, s[i])
			continue
		}
		if s[i+1] == '\\' {
			out = append(out, '\\')
			i++
			continue
		}
		var v byte
		for _, h := range s[i+2 : i+4] {
			v <<= 4
			switch {
			case h >= '0' && h <= '9':
				v |= h - '0'
			default:
				v |= h - 'a' + 10
			}
		}
		out = append(out, v)
		i += 3
	}
	return out
}

func FuzzAppend(f *testing.F) {
	for _, s := range []string{"", "ssh-drop", "a\\b", "\x00\xff", "é\u2028\x1b"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out := Append(nil, in)
		if !utf8.Valid(out) {
			t.Fatalf("Append(%q) = %q: not valid UTF-8", in, out)
		}
		for _, c := range out {
			if c < 0x20 || c == 0x7f {
				t.Fatalf("Append(%q) = %q: contains control byte %#x", in, out, c)
			}
		}
		if back := unescape(out); !bytes.Equal(back, in) {
			t.Fatalf("unescape(Append(%q)) = %q", in, back)
		}
	})
}
