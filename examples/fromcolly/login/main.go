// Command login logs in with a form POST, then crawls the members' area
// with the same session (and so the same cookies).
package main

import (
	"context"
	"fmt"
	"log"
	"net/url"
	"os"
	"regexp"

	"github.com/trawlhq/trawl/crawler"
	"github.com/trawlhq/trawl/pipeline"
	"github.com/trawlhq/trawl/session"
)

func main() {
	ctx, site := context.Background(), os.Args[1]
	sess, err := session.New(session.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer sess.Close()
	resp, err := sess.PostForm(ctx, site+"/login", url.Values{"user": {"ann"}, "password": {"secret"}})
	if err != nil || resp.StatusCode != 200 {
		log.Fatal("login failed: ", err)
	}
	resp.Release()
	printPage := pipeline.StageFunc(func(_ context.Context, p *pipeline.Page) error {
		fmt.Println("Visited", p.URL, p.Status)
		return nil
	})
	c, err := crawler.New(crawler.Config{
		Include: []*regexp.Regexp{regexp.MustCompile(`/account/`)}, // never /logout
		Stages:  []pipeline.Stage{printPage},
	}, sess, nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := c.Run(ctx, site+"/account/"); err != nil {
		log.Fatal(err)
	}
}
