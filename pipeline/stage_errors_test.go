package pipeline_test

import (
	"context"
	"errors"
	"testing"

	"github.com/trawlhq/trawl/pipeline"
)

func TestStageErrorsByStage(t *testing.T) {
	fail := pipeline.StageFunc(func(context.Context, *pipeline.Page) error { return errors.New("no") })
	pass := pipeline.StageFunc(func(context.Context, *pipeline.Page) error { return nil })
	boom := pipeline.StageFunc(func(context.Context, *pipeline.Page) error { panic("boom") })
	pl, err := pipeline.New(pipeline.Config{Stages: []pipeline.Stage{pipeline.Named("check", fail), pass, boom}})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := pl.Process(context.Background(), &pipeline.Page{URL: "http://a.test/"}); err != nil {
			t.Fatal(err)
		}
	}
	want := []pipeline.StageErrors{{0, "check", 3}, {1, "stage 2", 0}, {2, "stage 3", 3}}
	got := pl.StageErrors()
	if len(got) != len(want) {
		t.Fatalf("StageErrors = %+v; want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("StageErrors[%d] = %+v; want %+v", i, got[i], want[i])
		}
	}
	if n := pl.Stats().StageErrors; n != 6 {
		t.Errorf("Stats.StageErrors = %d; want 6", n)
	}
}
