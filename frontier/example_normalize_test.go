package frontier_test

import (
	"fmt"
	"net/url"

	"github.com/trawlhq/trawl/frontier"
)

func ExampleNormalize() {
	for _, raw := range []string{
		" HTTP://Example.COM:80/a/./b/../%7euser/caf%c3%a9?q=1#top ",
		"https://bücher.example",
		"http://0x7f.1:8080/x",
		"mailto:someone@example.com",
	} {
		s, err := frontier.Normalize(raw)
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Println(s)
	}
	// Output:
	// http://example.com/a/~user/caf%C3%A9?q=1
	// https://xn--bcher-kva.example/
	// http://127.0.0.1:8080/x
	// error: frontier: URL "mailto:someone@example.com": not an http or https URL
}

func ExampleNormalizer_Resolve() {
	page, _ := url.Parse("https://example.com/blog/2024/post.html")
	var n frontier.Normalizer
	for _, href := range []string{"../about.html", "/feed?x=1", "//cdn.example.net/app.js", "#comments", "javascript:void(0)"} {
		s, err := n.Resolve(page, href)
		if err != nil {
			fmt.Println("skip:", href)
			continue
		}
		fmt.Println(s)
	}
	// Output:
	// https://example.com/blog/about.html
	// https://example.com/feed?x=1
	// https://cdn.example.net/app.js
	// https://example.com/blog/2024/post.html
	// skip: javascript:void(0)
}

func ExampleNormalizer() {
	n := frontier.Normalizer{SortQuery: true, StripParams: []string{"utm_*", "sessionid"}}
	s, _ := n.Normalize("https://shop.example/item?size=m&utm_source=mail&color=red&sessionid=42")
	fmt.Println(s)
	// Output:
	// https://shop.example/item?color=red&size=m
}
