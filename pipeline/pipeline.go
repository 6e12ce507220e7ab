package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/trawlhq/trawl/frontier"
)

// ErrDrop is returned by a stage to drop the page: the remaining stages,
// exporters included, are skipped and no record is exported. It is not a
// stage error: it is not counted as one and does not reach the record.
// Stages may wrap it; Process tests it with errors.Is.
var ErrDrop = errors.New("pipeline: page dropped")

// ErrClosed is returned by Process after Close.
var ErrClosed = errors.New("pipeline: closed")

// Stage is one step of the pipeline.
//
// Contract: Process is called once per page, in the goroutine that called
// Pipeline.Process, with the stages in the order they were configured. It
// may be called concurrently for different pages, so a stage that keeps
// state must guard it. It may read and modify the page (Data, say) but must
// not retain the page, its Body or the Selections of its Doc after it
// returns, and must not make HTTP calls. Returning ErrDrop drops the page;
// any other error is a stage error (see Config.FailOnStageError).
type Stage interface {
	Process(ctx context.Context, p *Page) error
}

// StageFunc adapts a function to a Stage.
type StageFunc func(ctx context.Context, p *Page) error

// Process calls f(ctx, p).
func (f StageFunc) Process(ctx context.Context, p *Page) error { return f(ctx, p) }

var _ Stage = StageFunc(nil)

// Exporter is a stage that writes records somewhere. The pipeline treats
// exporters specially: they are skipped for noindex pages (unless
// Config.ExportNoIndex), their errors are always returned by Process (a
// record that cannot be written must not be lost silently), and Close
// closes them after the last Process call has returned.
//
// Contract: Process writes the page's record completely before it returns;
// Flush and Close are idempotent and safe for concurrent use; Close flushes.
type Exporter interface {
	Stage
	Flush() error
	Close() error
}

// Config configures a Pipeline. The zero value is usable: link extraction
// with the default normalizer, no stages.
type Config struct {
	// Stages run in order after link extraction. Exporters should come
	// last so that the records they write carry every stage's data and
	// errors. Nil means none: Process then only extracts.
	Stages []Stage
	// Normalizer resolves and normalizes extracted links and the
	// canonical URL. Nil means the zero frontier.Normalizer (default rules).
	// A crawler that builds the pipeline (crawler.Config.Stages) sets it to
	// its own.
	Normalizer *frontier.Normalizer
	// ExportNoIndex exports pages that carry a noindex directive (meta
	// robots or X-Robots-Tag). False skips exporters for them; the other
	// stages still run and their links are still extracted.
	ExportNoIndex bool
	// FailOnStageError makes Process return a stage's error (after recording
	// it and running no further stages). False records it on the page
	// (StageErrors, and so the record's error field), counts it, and goes on
	// with the next stage. Exporter errors are returned either way.
	FailOnStageError bool
	// IgnoreRobots ignores robots directives in <meta name=robots> and
	// X-Robots-Tag: Page.NoFollow and Page.NoIndex stay false. rel=nofollow
	// on a link still marks that link. False honours them.
	IgnoreRobots bool
	// RobotsAgent is the crawler's robots product token ("trawl"; a
	// crawler that builds the pipeline sets it). Meta tags named for it (<meta name=trawl content=nofollow>) and
	// X-Robots-Tag directives prefixed with it ("trawl: noindex") apply in
	// addition to the generic ones. Matching is case-insensitive. Empty
	// means only generic directives apply.
	RobotsAgent string
}

// Stats counts what a Pipeline has done. All counters are cumulative except
// InFlight.
type Stats struct {
	Processed   int64 // Process calls that ran (not ErrClosed)
	Exported    int64 // pages that reached the end of the stages without being dropped or skipped as noindex
	Dropped     int64 // pages a stage dropped with ErrDrop
	NoIndex     int64 // pages not exported because of noindex
	StageErrors int64 // stage errors, exporter errors included
	InFlight    int64 // Process calls running now
}

// Pipeline runs pages through link extraction and a list of stages.
// It starts no goroutines: Process runs in the caller's goroutine (see the
// package documentation). A Pipeline is safe for concurrent use.
type Pipeline struct {
	stages   []Stage
	names    []string
	exporter []bool // stages[i] is an Exporter
	norm     *frontier.Normalizer
	cfg      Config

	mu     sync.Mutex // guards closed and wg.Add against Close
	closed bool
	wg     sync.WaitGroup

	closeOnce sync.Once
	closeErr  error

	processed, exported, dropped, noindex, stageErrors, inFlight atomic.Int64
	errsByStage                                                  []atomic.Int64 // per stage
}

// StageErrors is the error count of one stage (Pipeline.StageErrors).
type StageErrors struct {
	Index  int    // the stage's position in Config.Stages, from 0
	Name   string // its String() (see Named), or "stage N" (N from 1) without one
	Errors int64  // errors it returned, panics included (not ErrDrop)
}

// New returns a pipeline running cfg.Stages. It fails if a stage is nil.
func New(cfg Config) (*Pipeline, error) {
	p := &Pipeline{cfg: cfg, norm: cfg.Normalizer, errsByStage: make([]atomic.Int64, len(cfg.Stages))}
	if p.norm == nil {
		p.norm = &frontier.Normalizer{}
	}
	for i, s := range cfg.Stages {
		if s == nil {
			return nil, fmt.Errorf("pipeline: stage %d is nil", i+1)
		}
		p.stages = append(p.stages, s)
		p.names = append(p.names, stageName(i, s))
		_, ok := s.(Exporter)
		p.exporter = append(p.exporter, ok)
	}
	return p, nil
}

// Named gives a stage a name used in the error messages recorded for it.
// The wrapper keeps what the pipeline looks for in a stage: an Exporter
// stays an Exporter, and a stage with a Close() error or Flush() error
// method keeps it, so Pipeline.Close and Flush still reach it.
func Named(name string, s Stage) Stage {
	if e, ok := s.(Exporter); ok {
		return namedExporter{name, e}
	}
	_, closes := s.(interface{ Close() error })
	_, flushes := s.(interface{ Flush() error })
	switch {
	case closes:
		return namedCloser{named{name, s}}
	case flushes:
		return namedFlusher{named{name, s}}
	}
	return named{name, s}
}

type namedExporter struct {
	name string
	Exporter
}

func (n namedExporter) String() string { return n.name }

type named struct {
	name string
	Stage
}

func (n named) String() string { return n.name }

// namedCloser is a named stage with a Close method (and no Flush: a stage
// with both is an Exporter).
type namedCloser struct{ named }

func (n namedCloser) Close() error { return n.Stage.(interface{ Close() error }).Close() }

// namedFlusher is a named stage with a Flush method and no Close.
type namedFlusher struct{ named }

func (n namedFlusher) Flush() error { return n.Stage.(interface{ Flush() error }).Flush() }

// stageName is "stage 2 (name)" when the stage has a String method, else
// "stage 2".
func stageName(i int, s Stage) string {
	n := "stage " + strconv.Itoa(i+1)
	if st, ok := s.(fmt.Stringer); ok {
		if name := st.String(); name != "" {
			n += " (" + name + ")"
		}
	}
	return n
}

// Process extracts the page's links, title and robots directives (HTML
// pages only), then runs every stage in order, in the caller's goroutine,
// and returns the page's record (built after the last stage ran).
//
// A stage error is appended to p.StageErrors (so it appears in the record's
// error field), counted, and the next stage runs; with
// Config.FailOnStageError, Process instead stops and returns it. A panic in
// a stage is recovered and treated as its error. An exporter's error is
// always returned. ErrDrop from a stage skips the remaining stages and is
// not returned: check p.Dropped. Process does not look at ctx itself; it
// passes it to the stages. After Close it returns ErrClosed.
func (pl *Pipeline) Process(ctx context.Context, p *Page) (Record, error) {
	if p == nil {
		return Record{}, errors.New("pipeline: nil page")
	}
	pl.mu.Lock()
	if pl.closed {
		pl.mu.Unlock()
		return Record{}, ErrClosed
	}
	pl.wg.Add(1)
	pl.mu.Unlock()
	defer pl.wg.Done()
	pl.inFlight.Add(1)
	defer pl.inFlight.Add(-1)
	pl.processed.Add(1)

	pl.extract(p)

	skipExport := p.NoIndex && !pl.cfg.ExportNoIndex
	var retErr error
	for i, s := range pl.stages {
		isExporter := pl.exporter[i]
		if isExporter && skipExport {
			continue
		}
		err := runStage(ctx, s, p)
		if err == nil {
			continue
		}
		if errors.Is(err, ErrDrop) {
			p.Dropped = true
			pl.dropped.Add(1)
			break
		}
		pl.stageErrors.Add(1)
		pl.errsByStage[i].Add(1)
		p.StageErrors = append(p.StageErrors, pl.names[i]+": "+err.Error())
		if isExporter || pl.cfg.FailOnStageError {
			retErr = fmt.Errorf("pipeline: %s: %w", pl.names[i], err)
			break
		}
	}
	switch {
	case p.Dropped:
	case skipExport:
		pl.noindex.Add(1)
	case retErr == nil:
		pl.exported.Add(1)
	}
	return p.Record(), retErr
}

// runStage calls s.Process, turning a panic into an error.
func runStage(ctx context.Context, s Stage, p *Page) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return s.Process(ctx, p)
}

// Stats returns the pipeline's counters.
func (pl *Pipeline) Stats() Stats {
	return Stats{
		Processed:   pl.processed.Load(),
		Exported:    pl.exported.Load(),
		Dropped:     pl.dropped.Load(),
		NoIndex:     pl.noindex.Load(),
		StageErrors: pl.stageErrors.Load(),
		InFlight:    pl.inFlight.Load(),
	}
}

// StageErrors returns the live error count of every stage, in order. It
// is safe for concurrent use.
func (pl *Pipeline) StageErrors() []StageErrors {
	out := make([]StageErrors, len(pl.stages))
	for i, s := range pl.stages {
		name := "stage " + strconv.Itoa(i+1)
		if st, ok := s.(fmt.Stringer); ok && st.String() != "" {
			name = st.String()
		}
		out[i] = StageErrors{Index: i, Name: name, Errors: pl.errsByStage[i].Load()}
	}
	return out
}

// Close stops accepting pages, waits for the Process calls running to
// return, then flushes and closes every stage that is an Exporter or has a
// Close() error method, in order. It returns their errors joined. Close is
// idempotent: later calls return the same error.
func (pl *Pipeline) Close() error {
	pl.closeOnce.Do(func() {
		pl.mu.Lock()
		pl.closed = true
		pl.mu.Unlock()
		pl.wg.Wait()
		var errs []error
		for i, s := range pl.stages {
			c, ok := s.(interface{ Close() error })
			if !ok {
				continue
			}
			if err := c.Close(); err != nil {
				errs = append(errs, fmt.Errorf("pipeline: close %s: %w", pl.names[i], err))
			}
		}
		pl.closeErr = errors.Join(errs...)
	})
	return pl.closeErr
}

// Flush flushes every stage that has a Flush() error method (the exporters),
// for a graceful stop that keeps the pipeline open. It returns their errors
// joined.
func (pl *Pipeline) Flush() error {
	var errs []error
	for i, s := range pl.stages {
		if f, ok := s.(interface{ Flush() error }); ok {
			if err := f.Flush(); err != nil {
				errs = append(errs, fmt.Errorf("pipeline: flush %s: %w", pl.names[i], err))
			}
		}
	}
	return errors.Join(errs...)
}
