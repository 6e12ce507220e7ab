package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trawlhq/trawl/internal/revisitsite"
)

// TestE2ERecrawlCSV: with --state, CSV rows carry not_modified, changed
// and gone in every pass: empty in the first, then set by a --recrawl
// pass, under the same header.
func TestE2ERecrawlCSV(t *testing.T) {
	t.Parallel()
	s := newRevisitServer(t, revisitsite.Config{Sections: []revisitsite.Section{{Pages: 60}}, Size: 1024, Seed: 9}, 0)
	dir := t.TempDir()
	state := []string{"--state", filepath.Join(dir, "state"), "--format", "csv"}
	read := func(name string) (header []string, rows map[string][]string) {
		t.Helper()
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		all, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rows = map[string][]string{}
		for _, r := range all[1:] {
			rows[strings.TrimPrefix(r[0], s.URL)] = r
		}
		return all[0], rows
	}
	run := func(name string, extra ...string) {
		t.Helper()
		args := append([]string{"crawl", s.URL + "/", "--quiet", "--ignore-robots", "-o", filepath.Join(dir, name)}, state...)
		if r := trawl(t, append(args, extra...)...); r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
	}
	run("p1.csv")
	h1, rows1 := read("p1.csv")
	if !slices.Equal(h1[len(h1)-4:], []string{"error", "not_modified", "changed", "gone"}) {
		t.Fatalf("header %v: want the recrawl columns after error", h1)
	}
	col := func(name string) int { return slices.Index(h1, name) }
	for p, r := range rows1 {
		if r[col("not_modified")] != "" || r[col("changed")] != "" || r[col("gone")] != "" {
			t.Errorf("pass 1 %s: recrawl cells %v, want empty", p, r[col("not_modified"):])
		}
	}

	changed := s.ChangeFraction(0.1, 3)
	gonePath := ""
	for _, p := range s.Paths()[1:] {
		if !slices.Contains(changed, p) {
			gonePath = p
			break
		}
	}
	if err := s.Remove(gonePath, 410); err != nil {
		t.Fatal(err)
	}
	run("p2.csv", "--recrawl")
	h2, rows2 := read("p2.csv")
	if !slices.Equal(h2, h1) {
		t.Fatalf("pass 2 header %v, pass 1 %v", h2, h1)
	}
	for p, r := range rows2 {
		got := [3]string{r[col("not_modified")], r[col("changed")], r[col("gone")]}
		var want [3]string
		switch {
		case p == gonePath:
			want = [3]string{"", "", "true"}
		case slices.Contains(changed, p):
			want = [3]string{"", "true", ""}
		default:
			want = [3]string{"true", "false", ""}
		}
		if got != want {
			t.Errorf("pass 2 %s (status %s): not_modified/changed/gone %q, want %q", p, r[col("status")], got, want)
		}
	}
	if len(rows2) != len(rows1) {
		t.Errorf("pass 2: %d rows, pass 1 %d", len(rows2), len(rows1))
	}
}
