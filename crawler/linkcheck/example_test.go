package linkcheck_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/trawlhq/trawl/crawler/linkcheck"
	"github.com/trawlhq/trawl/frontier/memory"
	"github.com/trawlhq/trawl/session"
)

// Example checks a three-page site with a missing page, a missing image
// and a fragment that names nothing, and prints the broken targets as
// JSON Lines.
func Example() {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		switch r.URL.Path {
		case "/":
			fmt.Fprint(w, "<a href=\"/about#team\">About</a>\n<a href=\"/gone\">Old page</a>\n<img src=\"/logo.png\" alt=\"Logo\">\n<a href=\"/about#nobody\">Nobody</a>\n")
		case "/about":
			fmt.Fprint(w, `<h2 id="team">Team</h2><a href="/">Home</a>`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer site.Close()

	sess, err := session.New(session.Config{})
	if err != nil {
		panic(err)
	}
	defer sess.Close()
	front := memory.New(memory.Config{})
	defer front.Close()

	c, err := linkcheck.New(linkcheck.Config{}, sess, front)
	if err != nil {
		panic(err)
	}
	report, err := c.Run(context.Background(), site.URL+"/")
	if err != nil {
		panic(err)
	}
	var out strings.Builder
	if err := linkcheck.WriteJSONL(&out, report, false); err != nil {
		panic(err)
	}
	fmt.Print(strings.ReplaceAll(out.String(), site.URL, "http://site")) // the port varies
	// Output:
	// {"url":"http://site/about#nobody","ok":false,"status":200,"error":"no element with id or name \"nobody\" on the page","skipped":"","kind":"fragment","redirects":[],"sources":[{"page":"http://site/","tag":"a","attr":"href","text":"Nobody","line":4}]}
	// {"url":"http://site/gone","ok":false,"status":404,"error":"status 404","skipped":"","kind":"page","redirects":[],"sources":[{"page":"http://site/","tag":"a","attr":"href","text":"Old page","line":2}]}
	// {"url":"http://site/logo.png","ok":false,"status":404,"error":"status 404","skipped":"","kind":"asset","redirects":[],"sources":[{"page":"http://site/","tag":"img","attr":"src","text":"Logo","line":3}]}
}
