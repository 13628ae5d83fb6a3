package nflog_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nflogcap/nflogcap/nflog"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     *nflog.Config
		field   string // "" = valid
		message string // part of the error text
	}{
		{"nil", nil, "Group", "required"},
		{"minimal", &nflog.Config{Group: 1}, "", ""},
		{"max group", &nflog.Config{Group: 65535}, "", ""},
		{"group 0", &nflog.Config{Group: 0}, "Group", "1..65535"},
		{"group 65536", &nflog.Config{Group: 65536}, "Group", "1..65535"},
		{"negative group", &nflog.Config{Group: -1}, "Group", "1..65535"},
		{"snaplen 70000", &nflog.Config{Group: 1, CopyMode: nflog.CopyPacket, Snaplen: 70000}, "Snaplen", "0..65531"},
		{"snaplen max", &nflog.Config{Group: 1, CopyMode: nflog.CopyPacket, Snaplen: 65531}, "", ""},
		{"snaplen without packet mode", &nflog.Config{Group: 1, Snaplen: 100}, "Snaplen", "CopyPacket"},
		{"unknown copy mode", &nflog.Config{Group: 1, CopyMode: 9}, "CopyMode", "CopyMeta"},
		{"qthresh 2000", &nflog.Config{Group: 1, QThresh: 2000}, "QThresh", "1..1024"},
		{"qthresh negative", &nflog.Config{Group: 1, QThresh: -1}, "QThresh", "1..1024"},
		{"qthresh 1024", &nflog.Config{Group: 1, QThresh: 1024, Timeout: time.Second}, "", ""},
		{"qthresh without timeout", &nflog.Config{Group: 1, QThresh: 64}, "", ""},
		{"negative timeout", &nflog.Config{Group: 1, Timeout: -time.Second}, "Timeout", "negative"},
		{"huge timeout", &nflog.Config{Group: 1, Timeout: 1 << 62}, "Timeout", "10 ms units"},
		{"unknown flag", &nflog.Config{Group: 1, Flags: 0x10}, "Flags", "FlagSeq"},
		{"unknown family", &nflog.Config{Group: 1, Families: []nflog.Family{nflog.FamilyIPv4, 99}}, "Families", "FamilyIPv6"},
		{"netdev family", &nflog.Config{Group: 1, Families: []nflog.Family{nflog.FamilyNetdev}}, "Families", "FamilyARP"},
		{"no families", &nflog.Config{Group: 1, Families: []nflog.Family{}}, "", ""},
		{"negative rcvbuf", &nflog.Config{Group: 1, RcvBuf: -1}, "RcvBuf", "1 GiB"},
		{"negative nlbufsize", &nflog.Config{Group: 1, NLBufSize: -5}, "NLBufSize", "4096..131072"},
		{"both netns forms", &nflog.Config{Group: 1, NetNS: "x", NetNSFD: 3}, "NetNS", "not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var ce *nflog.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("Validate: %v, want a *ConfigError", err)
			}
			if ce.Field != tt.field || !strings.Contains(err.Error(), tt.message) || !strings.Contains(err.Error(), "Config."+tt.field) {
				t.Errorf("error %q (field %s), want field %s mentioning %q", err, ce.Field, tt.field, tt.message)
			}
		})
	}
}

// An invalid Config is rejected before any socket is opened, so this works
// without privileges too.
func TestListenRejectsInvalidConfig(t *testing.T) {
	_, err := nflog.Listen(&nflog.Config{Group: 70000})
	var ce *nflog.ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("Listen: %v, want a *ConfigError", err)
	}
}

func TestStrings(t *testing.T) {
	checks := map[string]string{
		nflog.CopyPacket.String():                      "packet",
		nflog.CopyMeta.String():                        "meta",
		(nflog.FlagSeq | nflog.FlagConntrack).String(): "seq,conntrack",
		nflog.Flag(0).String():                         "none",
		nflog.FamilyBridge.String():                    "bridge",
		nflog.Family(42).String():                      "family(42)",
		nflog.TimeKernel.String():                      "kernel",
	}
	for got, want := range checks {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}
