package fromcolly

import (
	"slices"
	"strings"
	"testing"

	"github.com/trawlhq/trawl/internal/exampletest"
)

var programs = []string{"visit", "extract", "limit", "login", "filters", "export"}

// TestPrograms builds and runs each program against a local site.
func TestPrograms(t *testing.T) {
	bins := exampletest.BuildAll(t, programs...)
	for _, name := range programs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			site := exampletest.NewSite(t)
			u := site.URL
			seed := u + "/"
			if name == "filters" {
				seed = u + "/docs/"
			}
			if name == "login" {
				seed = u
			}
			out := exampletest.Run(t, bins[name], seed)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			has := func(want ...string) {
				t.Helper()
				for _, w := range want {
					if !slices.Contains(lines, w) {
						t.Errorf("output lacks %q:\n%s", w, out)
					}
				}
			}
			hasNot := func(not ...string) {
				t.Helper()
				for _, n := range not {
					if strings.Contains(out, n) {
						t.Errorf("output has %q:\n%s", n, out)
					}
				}
			}
			switch name {
			case "visit":
				has("Visited "+u+"/ 200", "Visited "+u+"/docs/a/deep 200", "Visited "+u+"/products?page=2 200", "Visited "+u+"/account/ 403")
			case "extract":
				has("Tea 4.50", "Cup 9.00", "Pot 25.00")
			case "limit":
				has("Visited "+u+"/", "Visited "+u+"/docs/", "Visited "+u+"/products")
				hasNot("/docs/a")
			case "login":
				has("Visited "+u+"/account/ 200", "Visited "+u+"/account/orders 200")
				if n := site.Hits("/logout"); n != 0 {
					t.Errorf("/logout fetched %d times", n)
				}
			case "filters":
				has("Visited "+u+"/docs/ depth 0", "Visited "+u+"/docs/a depth 1", "Visited "+u+"/docs/b depth 1")
				hasNot("sort=", "/deep", "/blog/")
			case "export":
				slices.Sort(lines)
				want := []string{"Cup,9.00," + u + "/products", "Pot,25.00," + u + "/products?page=2", "Tea,4.50," + u + "/products", "name,price,url"}
				if !slices.Equal(lines, want) {
					t.Errorf("CSV lines %q, want %q", lines, want)
				}
			}
		})
	}
}

// TestDoc: docs/from-colly.md shows each program exactly as it is here.
func TestDoc(t *testing.T) {
	blocks := exampletest.GoBlocks(t, "../../docs/from-colly.md")
	for _, name := range programs {
		if src := exampletest.ReadFile(t, name+"/main.go"); !slices.Contains(blocks, src) {
			t.Errorf("docs/from-colly.md does not show examples/fromcolly/%s/main.go as it is", name)
		}
	}
}
