package memory_test

import (
	"testing"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/frontier/frontiertest"
	"github.com/trawlhq/trawl/frontier/memory"
)

func TestContract(t *testing.T) {
	frontiertest.Run(t, func(t *testing.T) frontier.Frontier {
		return memory.New(memory.Config{Policy: frontier.HostPolicy{MaxInFlight: 2}})
	})
}

func TestContractPriority(t *testing.T) {
	// Entries of equal priority keep push order, so a priority frontier
	// passes the FIFO contract too.
	frontiertest.RunWithOptions(t, frontiertest.Options{
		Open: func(t *testing.T) frontier.Frontier {
			return memory.New(memory.Config{Policy: frontier.HostPolicy{MaxInFlight: 2}, Priority: true})
		},
		Priority: true,
	})
}
