package command

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// README.md documents every flag; this keeps the two from drifting apart.
func TestReadmeListsEveryFlag(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range captureFlags() {
		if vf, ok := f.(cli.VisibleFlag); ok && !vf.IsVisible() {
			continue
		}
		name := f.Names()[0]
		if !strings.Contains(string(readme), "`--"+name) && !strings.Contains(string(readme), ", --"+name) {
			t.Errorf("README.md does not document --%s", name)
		}
	}
}

// readmeFlagRow matches a row of README.md's flag table: names, default.
var readmeFlagRow = regexp.MustCompile("(?m)^\\| `([^`]+)` \\| `?([^`|]*?)`? \\|")

// README.md's flag table gives the defaults the program has.
func TestReadmeFlagDefaults(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]string{}
	for _, m := range readmeFlagRow.FindAllStringSubmatch(string(readme), -1) {
		for _, field := range strings.Fields(strings.ReplaceAll(m[1], ",", " ")) {
			if strings.HasPrefix(field, "--") {
				documented[field[2:]] = strings.TrimSpace(m[2])
			}
		}
	}
	for _, f := range captureFlags() {
		df, ok := f.(cli.DocGenerationFlag)
		if !ok {
			continue
		}
		if vf, ok := f.(cli.VisibleFlag); ok && !vf.IsVisible() {
			continue
		}
		name := f.Names()[0]
		if name == "version" || name == "help" {
			continue
		}
		got, ok := documented[name]
		if !ok {
			t.Errorf("README.md's flag table has no row for --%s", name)
			continue
		}
		want := df.GetDefaultText()
		if want == "" {
			want = df.GetValue()
		}
		want = strings.Trim(want, `"`)
		if got != want {
			t.Errorf("README.md gives --%s the default %q; the program has %q", name, got, want)
		}
	}
}
