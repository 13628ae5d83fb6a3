package command

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/nflogcap/nflogcap/pcapng"
	"github.com/nflogcap/nflogcap/rotate"
)

func recoverCommand() *cli.Command {
	return &cli.Command{
		Name:      "recover",
		Usage:     "report the .part files a killed capture left, and with --repair make them whole",
		ArgsUsage: "PATH (the -w path of the capture, e.g. /srv/cap/fw.pcapng)",
		Description: "A file being written is NAME.part. After a crash (kill -9, power loss) it holds every block flushed\n" +
			"before it (at most about a second is lost) and possibly a torn last block. --repair cuts the torn block off,\n" +
			"renames the file to NAME and records it in the manifest, marked repaired.",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "repair", Usage: "truncate each file to its last complete block and give it its final name"}},
		Action: func(c *cli.Context) error {
			if c.Args().Len() != 1 {
				return usagef("recover needs one PATH: the -w path of the capture (for example /srv/cap/fw.pcapng)")
			}
			path := c.Args().First()
			dir := filepath.Dir(path)
			base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
			found, err := rotate.Recover(dir, base, pcapng.ValidPrefix, c.Bool("repair"))
			out := c.App.Writer
			if len(found) == 0 && err == nil {
				fmt.Fprintf(out, "no leftover .part files of %s in %s\n", base, dir)
			}
			for _, f := range found {
				switch {
				case f.Removed:
					fmt.Fprintf(out, "%s: removed (%d bytes, no complete block or an interrupted compression)\n", f.Path, f.Size)
				case f.Repaired:
					fmt.Fprintf(out, "%s: repaired as %s (%d of %d bytes kept)\n", f.Path, f.Final, f.Valid, f.Size)
				case f.Valid >= 0:
					fmt.Fprintf(out, "%s: %d bytes, %d in complete blocks (%d torn); run nflogcap recover --repair %s\n",
						f.Path, f.Size, f.Valid, f.Size-f.Valid, path)
				default:
					fmt.Fprintf(out, "%s: %d bytes, not checked\n", f.Path, f.Size)
				}
			}
			return err
		},
	}
}
