package command

import (
	"os"
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
