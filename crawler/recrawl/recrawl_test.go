package recrawl_test

import (
	"testing"

	"github.com/trawlhq/trawl/crawler/recrawl"
	"github.com/trawlhq/trawl/crawler/recrawl/recrawltest"
)

func TestMemoryContract(t *testing.T) {
	recrawltest.Run(t, recrawltest.Options{
		Open: func(t *testing.T) recrawl.Store { return new(recrawl.Memory) },
	})
}
