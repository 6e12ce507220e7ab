// Command rawrevisit is the floor of the recrawl benchmark: the same URLs
// fetched by a bare net/http client, with nothing of a crawler (no
// frontier, parsing, store or output), first in full, then conditionally.
// It reads the URLs from a trawl JSONL output (the "url" of each record),
// runs both passes with -c goroutines on one shared Transport, and prints
// one line per pass on stdout:
//
//	raw full: 20001 requests in 1.52s (200: 20001), cpu 1.31s
//	raw conditional: 20001 requests in 0.97s (304: 20001), cpu 0.80s
//
// The full pass learns each URL's ETag and Last-Modified; the conditional
// pass sends them back. Only loopback URLs are fetched.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "rawrevisit:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("rawrevisit", flag.ContinueOnError)
	urlsFile := fs.String("urls", "", "trawl JSONL output whose records' URLs to fetch")
	c := fs.Int("c", 16, "concurrent requests (and connections)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *urlsFile == "" || *c < 1 {
		return errors.New("usage: rawrevisit -urls FILE.jsonl [-c N]")
	}
	urls, err := readURLs(*urlsFile)
	if err != nil {
		return err
	}
	tr := &http.Transport{MaxIdleConnsPerHost: *c, MaxConnsPerHost: *c, Proxy: nil}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	etags := make([]string, len(urls))
	modified := make([]string, len(urls))
	for _, cond := range []bool{false, true} {
		var mu sync.Mutex
		codes := map[int]int{}
		start, cpu0 := time.Now(), cpuTime()
		err := each(len(urls), *c, func(i int) error {
			req, err := http.NewRequest(http.MethodGet, urls[i], nil)
			if err != nil {
				return err
			}
			if cond {
				if etags[i] != "" {
					req.Header.Set("If-None-Match", etags[i])
				}
				if modified[i] != "" {
					req.Header.Set("If-Modified-Since", modified[i])
				}
			}
			resp, err := cl.Do(req)
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			if !cond {
				etags[i], modified[i] = resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
			}
			mu.Lock()
			codes[resp.StatusCode]++
			mu.Unlock()
			return nil
		})
		if err != nil {
			return err
		}
		name := "full"
		if cond {
			name = "conditional"
		}
		fmt.Printf("raw %s: %d requests in %.2fs (%s), cpu %.2fs\n", name, len(urls), time.Since(start).Seconds(), statuses(codes), (cpuTime() - cpu0).Seconds())
	}
	return nil
}

// cpuTime is the process's user and system CPU time so far, to set the
// crawler's CPU against the bare client's.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// readURLs returns the "url" of each record of a JSONL file, refusing any
// that is not on loopback.
func readURLs(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var urls []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		var r struct {
			URL string `json:"url"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s: line %d: %v", path, len(urls)+1, err)
		}
		u, err := url.Parse(r.URL)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("%s: %s is not on loopback", path, r.URL)
		}
		urls = append(urls, r.URL)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(urls) == 0 {
		return nil, fmt.Errorf("%s: no records", path)
	}
	return urls, nil
}

// each calls fn(0..n-1) from c goroutines; the first error stops it.
func each(n, c int, fn func(int) error) error {
	next := make(chan int)
	errs := make(chan error, c)
	var wg sync.WaitGroup
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var err error
feed:
	for i := range n {
		select {
		case next <- i:
		case err = <-errs:
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return err
}

func statuses(codes map[int]int) string {
	s := ""
	for _, k := range slices.Sorted(maps.Keys(codes)) {
		if s != "" {
			s += ", "
		}
		s += fmt.Sprintf("%d: %d", k, codes[k])
	}
	return s
}
