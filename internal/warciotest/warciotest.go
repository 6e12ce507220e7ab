// Package warciotest runs warcio.js, webrecorder's WARC reader (the one the
// replay tools use), from tests, as an independent check of the WARC files
// trawl writes. .ci/run installs it with npm into .tools/node in the
// repository; without it (or without node) a test is skipped, or fails
// when CI=true.
package warciotest

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
)

//go:embed records.mjs
var recordsScript []byte

// Record is one record as warcio.js parsed it.
type Record struct {
	File   string `json:"file"`
	Offset int64  `json:"offset"`
	Length int64  `json:"length"`
	Type   string `json:"type"`
	ID     string `json:"id"`
	URI    string `json:"uri"`
	Status string `json:"status"`
	// PayloadDigest is the record's WARC-Payload-Digest field.
	PayloadDigest string `json:"payloadDigest"`
	// RawPayloadSHA1 is the digest warcio.js's raw payload (the block after
	// the HTTP header, content coding kept) hashes to.
	RawPayloadSHA1 string `json:"rawPayloadSha1"`
}

// Dir returns the directory of the warcio npm package, or skips t (fails
// it under CI=true) when node or the package is missing.
func Dir(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", ".tools", "node", "node_modules", "warcio")
	_, nodeErr := exec.LookPath("node")
	_, pkgErr := os.Stat(filepath.Join(dir, "dist", "index.js"))
	if nodeErr == nil && pkgErr == nil {
		return dir
	}
	msg := "warcio.js not installed (node and `npm install --prefix .tools/node warcio`, as .ci/run does)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// Records parses files with warcio.js and returns their records in order;
// a file warcio.js cannot parse fails t.
func Records(t testing.TB, files ...string) []Record {
	t.Helper()
	dir := Dir(t)
	script := filepath.Join(t.TempDir(), "records.mjs")
	if err := os.WriteFile(script, recordsScript, 0o644); err != nil {
		t.Fatal(err)
	}
	out := run(t, "node", append([]string{script, dir}, files...)...)
	var recs []Record
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("warcio output %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	return recs
}

// CDXJ returns the CDXJ index warcio.js writes for files (its cdx-index
// command: response and revisit records), its lines sorted.
func CDXJ(t testing.TB, files ...string) []string {
	t.Helper()
	dir := Dir(t)
	out := run(t, "node", append([]string{filepath.Join(dir, "dist", "cli.js"), "cdx-index"}, files...)...)
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		lines = nil
	}
	sort.Strings(lines)
	return lines
}

func run(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("warcio.js: %v\n%s", err, stderr.Bytes())
	}
	return out
}
