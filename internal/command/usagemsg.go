package command

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/urfave/cli/v2"
)

// Bad boolean values get one message whether they come from the command line
// (Go's flag package: `invalid boolean value "x" for -seq: parse error`) or
// from the environment (urfave/cli: `could not parse "x" as bool value from
// environment variable "NFLOGCAP_SEQ" for flag seq: strconv.ParseBool: ...`).
var (
	boolFlagErr = regexp.MustCompile(`^invalid boolean value (".*") for -{1,2}([^\s:]+): parse error$`)
	boolEnvErr  = regexp.MustCompile(`^could not parse (".*") as bool value from environment variable "[^"]*" for flag ([^\s:]+): `)
)

// usageMessage rewrites the parser's messages about bad boolean values in
// the style of every other flag's: `invalid -q/--quiet "x": allowed true or
// false`.
func usageMessage(c *cli.Context, err error) string {
	msg := err.Error()
	m := boolFlagErr.FindStringSubmatch(msg)
	if m == nil {
		m = boolEnvErr.FindStringSubmatch(msg)
	}
	if m == nil {
		return msg
	}
	return fmt.Sprintf("invalid %s %s: allowed true or false", flagLabel(c, m[2]), m[1])
}

// flagLabel names the flag one of whose names is name as label does.
func flagLabel(c *cli.Context, name string) string {
	var flags []cli.Flag
	if c != nil && c.Command != nil {
		flags = append(flags, c.Command.Flags...)
	}
	if c != nil && c.App != nil {
		flags = append(flags, c.App.Flags...)
	}
	for _, f := range flags {
		if names := f.Names(); slices.Contains(names, name) {
			return label(names[0])
		}
	}
	return label(name)
}
