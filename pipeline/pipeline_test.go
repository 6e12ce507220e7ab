package pipeline

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestStageErrorsRecorded(t *testing.T) {
	var ran []string
	mark := func(name string, err error) Stage {
		return StageFunc(func(context.Context, *Page) error {
			ran = append(ran, name)
			return err
		})
	}
	var buf bytes.Buffer
	pl, err := New(Config{Stages: []Stage{
		mark("one", nil),
		Named("prices", mark("two", errors.New("no price on page"))),
		StageFunc(func(context.Context, *Page) error { panic("boom") }),
		mark("four", nil),
		NewJSONL(&buf),
	}})
	if err != nil {
		t.Fatal(err)
	}
	p := htmlPage("http://example.com/", "<title>t</title>")
	rec, err := pl.Process(context.Background(), p)
	if err != nil {
		t.Fatalf("Process returned %v; stage errors must not fail it", err)
	}
	if got := strings.Join(ran, ","); got != "one,two,four" {
		t.Errorf("stages ran %q", got)
	}
	want := "stage 2 (prices): no price on page; stage 3: panic: boom"
	if rec.Error != want {
		t.Errorf("record error = %q, want %q", rec.Error, want)
	}
	if !strings.Contains(buf.String(), `"error":"stage 2 (prices): no price on page; stage 3: panic: boom"`) {
		t.Errorf("exported record lacks the stage errors: %s", buf.String())
	}
	if s := pl.Stats(); s.StageErrors != 2 || s.Processed != 1 || s.Exported != 1 || s.InFlight != 0 {
		t.Errorf("stats = %+v", s)
	}
}

func TestFailOnStageError(t *testing.T) {
	after := false
	cause := errors.New("bad item")
	pl, err := New(Config{FailOnStageError: true, Stages: []Stage{
		StageFunc(func(context.Context, *Page) error { return cause }),
		StageFunc(func(context.Context, *Page) error { after = true; return nil }),
	}})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := pl.Process(context.Background(), htmlPage("http://example.com/", ""))
	if !errors.Is(err, cause) {
		t.Fatalf("Process error = %v, want it to wrap %v", err, cause)
	}
	if err.Error() != "pipeline: stage 1: bad item" {
		t.Errorf("error message %q", err)
	}
	if after {
		t.Error("a stage ran after the failing one")
	}
	if rec.Error != "stage 1: bad item" {
		t.Errorf("record error = %q", rec.Error)
	}
}

func TestDrop(t *testing.T) {
	var buf bytes.Buffer
	after := false
	pl, err := New(Config{Stages: []Stage{
		Filter(func(p *Page) bool { return !strings.Contains(p.URL, "skip") }),
		StageFunc(func(context.Context, *Page) error { after = true; return nil }),
		NewJSONL(&buf),
	}})
	if err != nil {
		t.Fatal(err)
	}
	p := htmlPage("http://example.com/skip", `<a href="/next">`)
	rec, err := pl.Process(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Dropped || after || buf.Len() != 0 {
		t.Errorf("dropped=%v later stage ran=%v exported %q", p.Dropped, after, buf.String())
	}
	if len(rec.Links) != 1 || rec.Error != "" {
		t.Errorf("a dropped page still has its links and no error: %+v", rec)
	}
	if _, err := pl.Process(context.Background(), htmlPage("http://example.com/keep", "")); err != nil {
		t.Fatal(err)
	}
	if !after || !strings.Contains(buf.String(), `"url":"http://example.com/keep"`) {
		t.Errorf("kept page not exported: %q", buf.String())
	}
	if s := pl.Stats(); s.Dropped != 1 || s.Exported != 1 || s.StageErrors != 0 {
		t.Errorf("stats = %+v", s)
	}
}

func TestNoIndexNotExported(t *testing.T) {
	for _, exportNoIndex := range []bool{false, true} {
		t.Run(map[bool]string{false: "default", true: "ExportNoIndex"}[exportNoIndex], func(t *testing.T) {
			var buf bytes.Buffer
			userStage := false
			pl, err := New(Config{ExportNoIndex: exportNoIndex, Stages: []Stage{
				StageFunc(func(context.Context, *Page) error { userStage = true; return nil }),
				NewJSONL(&buf),
			}})
			if err != nil {
				t.Fatal(err)
			}
			p := htmlPage("http://example.com/", `<meta name=robots content=noindex><a href="/a">`)
			if _, err := pl.Process(context.Background(), p); err != nil {
				t.Fatal(err)
			}
			if !userStage {
				t.Error("user stage skipped for a noindex page")
			}
			if len(p.Links) != 1 || p.Links[0].NoFollow {
				t.Errorf("links of a noindex page: %v, want one followable", p.Links)
			}
			if exported := buf.Len() > 0; exported != exportNoIndex {
				t.Errorf("exported = %v, want %v", exported, exportNoIndex)
			}
		})
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestExporterErrorReturned(t *testing.T) {
	pl, err := New(Config{Stages: []Stage{NewJSONL(failWriter{})}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = pl.Process(context.Background(), htmlPage("http://example.com/", ""))
	if err == nil || !strings.Contains(err.Error(), "disk full") || !strings.Contains(err.Error(), "jsonl") {
		t.Fatalf("Process error = %v, want the jsonl write error", err)
	}
}

func TestNewRejectsNilStage(t *testing.T) {
	if _, err := New(Config{Stages: []Stage{StageFunc(nil), nil}}); err == nil || err.Error() != "pipeline: stage 2 is nil" {
		t.Errorf("New error = %v", err)
	}
}

func TestCloseWaitsAndIsIdempotent(t *testing.T) {
	var buf bytes.Buffer
	ex := NewJSONL(&buf)
	release := make(chan struct{})
	entered := make(chan struct{})
	pl, err := New(Config{Stages: []Stage{
		StageFunc(func(context.Context, *Page) error { close(entered); <-release; return nil }),
		ex,
	}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := pl.Process(context.Background(), htmlPage("http://example.com/", ""))
		done <- err
	}()
	<-entered
	closed := make(chan error, 1)
	go func() { closed <- pl.Close() }()
	select {
	case <-closed:
		t.Fatal("Close returned while Process was running")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Process: %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if ex.Records() != 1 {
		t.Errorf("records written = %d, want 1", ex.Records())
	}
	if err := pl.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := pl.Process(context.Background(), htmlPage("http://example.com/", "")); !errors.Is(err, ErrClosed) {
		t.Errorf("Process after Close = %v, want ErrClosed", err)
	}
	if err := ex.WriteRecord(Record{}); !errors.Is(err, ErrExporterClosed) {
		t.Errorf("write after Close = %v, want ErrExporterClosed", err)
	}
}

// slowWriter blocks every Write until a token arrives on gate and counts
// the records it receives.
type slowWriter struct {
	gate chan struct{}
	mu   sync.Mutex
	buf  bytes.Buffer
}

func (w *slowWriter) Write(b []byte) (int, error) {
	<-w.gate
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(b)
}

// TestBackpressure checks the package's memory bound: with C callers and
// an exporter that cannot keep up, at most C pages are inside the pipeline
// at any instant, the callers block (no queue absorbs the pages), and every
// record has been written when its Process returns.
func TestBackpressure(t *testing.T) {
	const callers, pages = 8, 200
	w := &slowWriter{gate: make(chan struct{})}
	var inside, maxInside atomic.Int64
	enter := StageFunc(func(context.Context, *Page) error {
		n := inside.Add(1)
		for {
			m := maxInside.Load()
			if n <= m || maxInside.CompareAndSwap(m, n) {
				break
			}
		}
		return nil
	})
	ex := NewJSONL(w)
	pl, err := New(Config{Stages: []Stage{enter, ex}})
	if err != nil {
		t.Fatal(err)
	}
	var started, returned atomic.Int64
	var wg sync.WaitGroup
	work := make(chan int)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				started.Add(1)
				p := htmlPage("http://example.com/p/"+itoa(i), "")
				_, err := pl.Process(context.Background(), p)
				inside.Add(-1)
				if err != nil {
					t.Error(err)
				}
				returned.Add(1)
			}
		}()
	}
	go func() {
		for i := range pages {
			work <- i
		}
		close(work)
	}()
	// The exporter is stalled: every caller ends up blocked inside, and no
	// more pages can enter than there are callers.
	for inside.Load() < callers {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	if n := started.Load(); n != callers {
		t.Errorf("%d pages started with the exporter stalled, want %d (one per caller)", n, callers)
	}
	if returned.Load() != 0 {
		t.Errorf("Process returned before its record was written")
	}
	// Let the writes through one at a time.
	for range pages {
		w.gate <- struct{}{}
	}
	wg.Wait()
	if m := maxInside.Load(); m > callers {
		t.Errorf("%d pages inside the pipeline at once, want at most %d", m, callers)
	}
	if got := ex.Records(); got != pages {
		t.Errorf("records = %d, want %d", got, pages)
	}
	if lines := strings.Count(w.buf.String(), "\n"); lines != pages {
		t.Errorf("lines = %d, want %d", lines, pages)
	}
	if err := pl.Close(); err != nil {
		t.Fatal(err)
	}
}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			return string(b[n:])
		}
	}
}

type closeCounter struct {
	StageFunc
	flushes, closes int
}

func (c *closeCounter) Flush() error { c.flushes++; return nil }
func (c *closeCounter) Close() error { c.closes++; return nil }

func TestNamedKeepsExporter(t *testing.T) {
	c := &closeCounter{StageFunc: func(context.Context, *Page) error { return errors.New("write failed") }}
	pl, err := New(Config{Stages: []Stage{Named("sink", c)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pl.Process(context.Background(), htmlPage("http://example.com/", "")); err == nil ||
		err.Error() != "pipeline: stage 1 (sink): write failed" {
		t.Errorf("named exporter error = %v, want it returned", err)
	}
	if err := pl.Flush(); err != nil {
		t.Fatal(err)
	}
	pl.Close()
	pl.Close()
	if c.flushes != 1 || c.closes != 1 {
		t.Errorf("flushes %d closes %d, want 1 and 1", c.flushes, c.closes)
	}
}

// TestRecordDoesNotAliasBody lets the crawler recycle the body's buffer
// once Process has returned.
func TestRecordDoesNotAliasBody(t *testing.T) {
	sel, err := Select(map[string]string{"h": "h1"})
	if err != nil {
		t.Fatal(err)
	}
	p := htmlPage("http://example.com/", `<title>Title</title><h1>Head</h1><a href="/link">`)
	rec := process(t, Config{Stages: []Stage{sel}}, p)
	for i := range p.Body {
		p.Body[i] = 'X'
	}
	if rec.Title != "Title" || rec.Links[0] != "http://example.com/link" || rec.Data["h"][0] != "Head" || p.Links[0].URL != rec.Links[0] {
		t.Errorf("record changed with the body: %+v", rec)
	}
}

// fileStage is a plain stage holding a resource it releases in Close (an
// open file, say); onlyFlush has a Flush and no Close.
type fileStage struct {
	StageFunc
	closes int
}

func (f *fileStage) Close() error { f.closes++; return nil }

type onlyFlush struct {
	StageFunc
	flushes int
}

func (f *onlyFlush) Flush() error { f.flushes++; return nil }

// TestNamedKeepsClose: a named plain stage with a Close (or a Flush) keeps
// it, so the pipeline still closes (flushes) it, and it does not become an
// exporter (it still runs for noindex pages). Before the fix Named hid
// them and the stage was never closed.
func TestNamedKeepsClose(t *testing.T) {
	nop := func(context.Context, *Page) error { return nil }
	fs := &fileStage{StageFunc: nop}
	of := &onlyFlush{StageFunc: nop}
	ran := 0
	counter := StageFunc(func(context.Context, *Page) error { ran++; return nil })
	pl, err := New(Config{Stages: []Stage{Named("file", fs), Named("flusher", of), Named("counter", counter)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := Named("file", fs).(Exporter); ok {
		t.Error("a named plain stage became an Exporter")
	}
	noindex := htmlPage("http://example.com/", `<meta name=robots content=noindex>`)
	if _, err := pl.Process(context.Background(), noindex); err != nil || ran != 1 {
		t.Fatalf("Process: %v, later stage ran %d times", err, ran)
	}
	if err := pl.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := pl.Close(); err != nil {
		t.Fatal(err)
	}
	if fs.closes != 1 || of.flushes != 1 {
		t.Errorf("named stage closed %d times, flushed %d times; want 1 and 1", fs.closes, of.flushes)
	}
}
