package demosite_test

import (
	"bufio"
	"fmt"
	"net/http"

	"github.com/trawlhq/trawl/internal/demosite"
)

// The site runs on a free loopback port until Close.
func ExampleStart() {
	site, err := demosite.Start("")
	if err != nil {
		panic(err)
	}
	defer site.Close()
	resp, err := http.Get(site.URL + "/robots.txt")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	first, _ := bufio.NewReader(resp.Body).ReadString('\n')
	fmt.Print(resp.Status, ": ", first)
	fmt.Println(site.Hits()["/robots.txt"], "request")
	// Output:
	// 200 OK: # robots.txt of the trawl demo site (Teacup & Co.)
	// 1 request
}

// Tests of link checking compare their findings with Broken.
func ExampleBroken() {
	for _, b := range demosite.Broken() {
		if b.Kind == demosite.KindLink && b.Status >= 400 {
			fmt.Println(b.Status, b.URL, b.Problem)
		}
	}
	// Output:
	// 404 /blog/2019/01/summer-menu not found
	// 410 /shop/discontinued/retro-kettle gone
	// 500 /shop/reviews server error
}

// Pages describes what a crawler finds, page by page.
func ExamplePages() {
	for _, p := range demosite.Pages() {
		switch {
		case p.Path == "/intl/ja/":
			fmt.Println(p.Path, p.Charset, p.Title)
		case p.Redirects != nil:
			fmt.Println(p.Path, p.Redirects, p.Status, p.Loop)
		case p.Product != nil && p.Product.SKU == "EPI-020":
			fmt.Println(p.Path, p.Charset, p.Product.Name, p.Product.Price)
		}
	}
	// Output:
	// /intl/ja/ shift_jis お茶とコーヒーのガイド | Teacup & Co.
	// /members [/members/ /members] 0 true
	// /promo [/promo/winter /shop/sale] 200 false
	// /shop/epicerie/oeufs-en-chocolat-coffret windows-1252 Œufs en chocolat – coffret 22,95 €
}
