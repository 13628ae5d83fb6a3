package main

import (
	"strings"
	"testing"
)

// Repeats go round the tools; the table groups them back by size and tool.
func TestPlanGoesRoundTheTools(t *testing.T) {
	a := &tool{name: "a", devnull: true}
	b := &tool{name: "b"}
	c := &tool{name: "c", skip: "not installed"}
	o := &options{sizes: []int{1400, 64}, repeat: 2, devnull: true}
	runs, skipped := plan(o, []*tool{a, b, c})
	var got []string
	for _, r := range runs {
		s := r.tool.name
		if r.devnull {
			s += "/null"
		}
		got = append(got, s)
	}
	// Per size: round 1 (a, a/null, b), round 2 (a, a/null, b).
	want := "a a/null b a a/null b a a/null b a a/null b"
	if strings.Join(got, " ") != want {
		t.Errorf("run order %q, want %q", strings.Join(got, " "), want)
	}
	if len(skipped) != 2 || skipped[0].tool != "c" || skipped[0].size != 1400 || skipped[1].size != 64 {
		t.Errorf("skipped rows %+v, want c at 1400 and at 64", skipped)
	}

	results := skipped
	for i, r := range runs {
		results = append(results, result{tool: r.tool.name, size: o.sizes[i/6], devnull: r.devnull, captured: int64(i)})
	}
	byTool(results, o.sizes, []*tool{a, b, c})
	var rows []string
	for _, r := range results {
		s := r.tool
		if r.devnull {
			s += "/null"
		}
		if r.skipped == "" {
			s += "#" + string(rune('0'+r.captured%10))
		}
		rows = append(rows, s)
	}
	// 1400 first (as given), then 64; within a size a, a/null, b, c; a
	// tool's runs in the order they were made.
	wantRows := "a#0 a#3 a/null#1 a/null#4 b#2 b#5 c a#6 a#9 a/null#7 a/null#0 b#8 b#1 c"
	if strings.Join(rows, " ") != wantRows {
		t.Errorf("table order %q, want %q", strings.Join(rows, " "), wantRows)
	}
}
