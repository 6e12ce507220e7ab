package revisitsite_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/trawlhq/trawl/internal/revisitsite"
)

// A revalidation costs no body until the page changes.
func Example() {
	site, err := revisitsite.New(revisitsite.Config{Sections: []revisitsite.Section{{Pages: 10}}})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(site)
	defer srv.Close()

	get := func(etag string) *http.Response {
		req, _ := http.NewRequest("GET", srv.URL+"/p/3.html", nil)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		return resp
	}
	etag := get("").Header.Get("ETag")
	fmt.Println(get(etag).StatusCode)
	site.Change("/p/3.html")
	fmt.Println(get(etag).StatusCode)

	st := site.Stats()
	fmt.Println(st.Requests, "requests,", st.NotModified, "not modified, bodies of", st.Paths200)
	// Output:
	// 304
	// 200
	// 3 requests, 1 not modified, bodies of [/p/3.html]
}
