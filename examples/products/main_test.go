package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	products := []struct {
		name, price string
		want        float64
	}{
		{"Kettle", "€24.90", 24.90},
		{"Teapot", "19,50 EUR", 19.50},
		{"Toaster", "$1,299.00", 1299},
		{"Mug", "£4", 4},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<h1>Shop</h1><ul>")
		for i := range products {
			fmt.Fprintf(w, `<li><a href="/item/%d">item</a></li>`, i)
		}
		fmt.Fprint(w, `</ul><a href="/about">about</a>`)
	})
	mux.HandleFunc("/about", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<p>No products here.</p>")
	})
	mux.HandleFunc("/item/{id}", func(w http.ResponseWriter, r *http.Request) {
		var i int
		if _, err := fmt.Sscan(r.PathValue("id"), &i); err != nil || i >= len(products) {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<div class="product"><h1 class="name"> %s </h1><span class="price">%s</span></div>`,
			products[i].name, products[i].price)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, []string{srv.URL + "/"}, &out); err != nil {
		t.Fatal(err)
	}
	var got []Product
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var p Product
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatalf("bad line %q: %v", sc.Text(), err)
		}
		got = append(got, p)
	}
	if len(got) != len(products) {
		t.Fatalf("got %d products, want %d: %+v", len(got), len(products), got)
	}
	sort.Slice(got, func(i, j int) bool { return got[i].URL < got[j].URL })
	for i, p := range got {
		want := products[i]
		if p.Name != want.name || p.Price != want.want || p.URL != fmt.Sprintf("%s/item/%d", srv.URL, i) {
			t.Errorf("product %d = %+v, want %s at %v", i, p, want.name, want.want)
		}
	}
}

func TestParsePrice(t *testing.T) {
	tests := []struct {
		in       string
		price    float64
		currency string
		ok       bool
	}{
		{"€24.90", 24.90, "EUR", true},
		{"24,90 EUR", 24.90, "EUR", true},
		{"$1,299.00", 1299, "USD", true},
		{" 7 ", 7, "", true},
		{"free", 0, "", false},
		{"-3", 0, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, c, err := parsePrice(tt.in)
			if (err == nil) != tt.ok || (tt.ok && (p != tt.price || c != tt.currency)) {
				t.Fatalf("parsePrice(%q) = %v, %q, %v", tt.in, p, c, err)
			}
		})
	}
}
