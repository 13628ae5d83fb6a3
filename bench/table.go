//go:build linux

package main

import (
	"fmt"
	"strings"
	"time"
)

// reportHeader is what the report says about where and how it was measured.
type reportHeader struct {
	machine  string
	load     string
	versions []string
}

// formatReport renders the Markdown report: header lines, the table, and the
// notes that qualify rows (skips, failures, anomalies).
func formatReport(h reportHeader, results []result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Machine: %s\n\n", h.machine)
	fmt.Fprintf(&b, "Load: %s\n\n", h.load)
	if len(h.versions) > 0 {
		fmt.Fprintf(&b, "Tools: %s\n\n", strings.Join(h.versions, "; "))
	}
	b.WriteString("| tool | size B | sent | send rate | captured | lost (%) | CPU µs/pkt | of it sys | peak RSS MiB | bytes written | tool-reported drops | other load |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	var notes []string
	skipped := map[string]bool{}
	fromTool := false
	for _, r := range results {
		name := displayName(r.tool, r.devnull)
		label := fmt.Sprintf("%s, %d B", name, r.size)
		if r.skipped != "" {
			if !skipped[r.tool] {
				notes = append(notes, fmt.Sprintf("%s: skipped: %s", r.tool, r.skipped))
				skipped[r.tool] = true
			}
			continue
		}
		if r.err != nil {
			notes = append(notes, fmt.Sprintf("%s: failed: %v", label, r.err))
		}
		for _, n := range r.notes {
			notes = append(notes, label+": "+n)
		}
		if r.err != nil {
			continue // a failed run's numbers mean nothing; its note says why
		}
		fromTool = fromTool || r.fromTool
		fmt.Fprintf(&b, "| %s | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			name, r.size, r.send.Sent, rate(r.send.Rate()), captured(r), lost(r), cpuPerPacket(r, r.cpu), cpuPerPacket(r, r.sysCPU),
			mib(r.maxRSS), bytesWritten(r.written), count(r.report.drops), load(r.other))
	}
	if fromTool {
		notes = append([]string{"captured*: the tool's own count; there is no file to check it against"}, notes...)
	}
	if len(notes) > 0 {
		b.WriteString("\n")
		for _, n := range notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	return b.String()
}

// displayName is the tool's name in the table and progress lines.
func displayName(tool string, devnull bool) string {
	if devnull {
		return tool + " → /dev/null"
	}
	return tool
}

func rate(pps float64) string { return fmt.Sprintf("%.0fk/s", pps/1000) }

func captured(r result) string {
	if r.captured < 0 {
		return "?"
	}
	if r.fromTool {
		return fmt.Sprintf("%d*", r.captured) // the tool's own count, not verified
	}
	return fmt.Sprint(r.captured)
}

func lost(r result) string {
	if r.captured < 0 || r.send.Sent == 0 {
		return "?"
	}
	n := int64(r.send.Sent) - r.captured
	return fmt.Sprintf("%d (%s%%)", n, percent(float64(n)*100/float64(r.send.Sent)))
}

// percent keeps small losses visible: the target is at most 0.01%.
func percent(p float64) string {
	switch {
	case p == 0:
		return "0"
	case p >= 1 || p <= -1:
		return fmt.Sprintf("%.1f", p)
	case p >= 0.01 || p <= -0.01:
		return fmt.Sprintf("%.2f", p)
	default:
		return fmt.Sprintf("%.4f", p)
	}
}

// cpuPerPacket is d (all of r's CPU, or a part) per captured packet. Below
// 1 µs it has three decimals: at 64 bytes the tools compared differ by a
// few hundredths, which two decimals would round away.
func cpuPerPacket(r result, d time.Duration) string {
	if r.captured <= 0 {
		return "?"
	}
	us := float64(d) / float64(time.Microsecond) / float64(r.captured)
	if us < 1 {
		return fmt.Sprintf("%.3f", us)
	}
	return fmt.Sprintf("%.2f", us)
}

func mib(b int64) string { return fmt.Sprintf("%.1f", float64(b)/(1<<20)) }

func bytesWritten(n int64) string {
	if n < 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}

func load(share float64) string {
	if share < 0 {
		return "?"
	}
	return fmt.Sprintf("%.0f%%", share*100)
}

func count(n int64) string {
	if n < 0 {
		return "–"
	}
	return fmt.Sprint(n)
}
