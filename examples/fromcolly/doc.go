// Package fromcolly holds, one program per subdirectory, the trawl side of
// docs/from-colly.md: six everyday Colly programs rewritten for trawl. The
// package's test builds and runs each against a local site and checks that
// the document shows exactly these programs.
package fromcolly
