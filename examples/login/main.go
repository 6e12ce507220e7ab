// Command login logs in to a site with a form POST and then crawls the
// members' area with the same session, so every request of the crawl
// carries the login cookie:
//
//	go run ./examples/login -user ann -password secret https://site.example/
//
// It posts user and password to /login under the site's URL, then crawls
// from /account/, and only under /account/: a members' area links to
// /logout, and following that link would end the session the crawl
// depends on.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"regexp"
	"strings"

	"github.com/trawlhq/trawl/crawler"
	"github.com/trawlhq/trawl/pipeline"
	"github.com/trawlhq/trawl/session"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "login:", err)
		os.Exit(1)
	}
}

// run logs in and crawls; the records go to out as JSON Lines.
func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("login", flag.ContinueOnError)
	user := fs.String("user", "", "user name")
	password := fs.String("password", "", "password")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *user == "" {
		return errors.New("usage: login -user NAME -password PASS SITE-URL")
	}
	site := strings.TrimSuffix(fs.Arg(0), "/")

	// One session for the login and the crawl: its cookie jar keeps the
	// cookie the login response sets and sends it with every later request.
	sess, err := session.New(session.Config{})
	if err != nil {
		return err
	}
	defer sess.Close()

	resp, err := sess.PostForm(ctx, site+"/login", url.Values{"user": {*user}, "password": {*password}})
	if err != nil {
		return fmt.Errorf("logging in: %w", err)
	}
	status := resp.StatusCode
	resp.Release()
	if status != 200 {
		return fmt.Errorf("logging in: status %d", status)
	}

	// The crawler builds the pipeline from Stages and creates its own
	// frontier; the session is ours, with the login cookie in its jar.
	c, err := crawler.New(crawler.Config{
		Include: []*regexp.Regexp{regexp.MustCompile("^" + regexp.QuoteMeta(site) + "/account/")},
		Stages:  []pipeline.Stage{pipeline.NewJSONL(out)},
	}, sess, nil, nil)
	if err != nil {
		return err
	}
	return c.Run(ctx, site+"/account/")
}
