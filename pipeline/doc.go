// Package pipeline turns fetched pages into links and records.
//
// # Model
//
// The crawler hands every fetched (or failed) URL to Pipeline.Process as a
// *Page. Process first extracts, for HTML pages, everything the crawl
// itself needs in ONE pass over the document, without building a DOM (a
// scanner that jumps from '<' to '<' under golang.org/x/net/html's
// Tokenizer rules, checked against the Tokenizer by FuzzScanFast; the
// Tokenizer itself reads the few pages it leaves): the links (a[href], area[href], frame[src], iframe[src],
// and the target of <meta http-equiv=refresh>, honouring <base href>;
// links inside <noscript> and <noframes> count, as a crawler runs no
// scripts), <link rel=canonical>, the <title>, and the
// robots directives of <meta name=robots> (and of the X-Robots-Tag header,
// for any page). Links are resolved and normalized with the frontier's
// Normalizer, stripped of fragments, deduplicated and kept in document
// order, each with where it came from (Link.Tag, Attr, Rel) and its anchor
// text (Link.Text, collapsed and capped at MaxLinkText); javascript:,
// mailto:, tel: and data: links and hrefs that do not parse are skipped
// without failing the page. A crawler decides per link which to follow
// (crawler.Config.Follow); stages need not clear Page.Links for that. Non-HTML responses (PDF,
// images, JSON) are not parsed but still yield a record.
//
// Then the configured stages run in order. A goquery Document is built
// only when a stage asks for it (Page.Doc), once per page, and shared by
// all stages. The body is decoded to UTF-8 only when its charset is not
// already UTF-8 (BOM, then Content-Type header, then <meta>; see Page.Text).
//
// Built-in stages: Select (CSS selector extraction into Page.Data),
// StageFunc (any function), Filter (drop pages), OnHTML (a function per
// matching element, Colly style but fixed at construction: there is no
// callback registry to mutate while crawling), and the exporters JSONL and
// CSV. A stage returns ErrDrop to drop a page: later stages, exporters
// included, do not see it. Named names a stage for error messages and keeps
// its Close and Flush.
//
// # Typed items
//
// Records describe pages; items are the caller's own values. A stage or an
// OnHTML func calls Page.Emit(v) any number of times per page, and an item
// exporter writes those of its type parameter: ItemJSONL[T] as JSON Lines
// (encoding/json), ItemCSV[T] as CSV with one column per struct field. They
// are exporters like JSONL and CSV: one Write per item, done before Process
// returns (so before the crawler acknowledges the page: the same
// backpressure and crash safety as records), skipped for noindex pages,
// their errors returned. ItemsOf[T] gives a later stage the items typed.
//
// # Who configures the pipeline
//
// Normalizer, RobotsAgent and IgnoreRobots describe the crawl, not the
// pipeline: a crawler that builds the pipeline (crawler.Config.Stages)
// sets them from its own configuration. Set them yourself only for a
// pipeline used on its own or handed to a crawler ready-made.
//
// # Records
//
// Page.Record builds the Record that exporters write: one per requested
// URL, success or failure, with the JSON field names url, final_url,
// status, depth, referrer, content_type, title, bytes, truncated,
// elapsed_ms, fetched_at (RFC 3339, UTC, milliseconds), links (never null:
// [] when none), data (never null: {} when none) and error ("" on success;
// otherwise Page.Err's message followed by any stage errors, joined by
// "; "). Nofollow links are listed in links like any other; Page.Links
// says which ones not to follow. Noindex pages are processed but not
// exported unless Config.ExportNoIndex. CSV exports have the same columns
// (see CSVColumns; links space-separated, data as a JSON object), or one
// column per data field with NewCSVColumns.
//
// # Errors
//
// A stage's error (or panic) is counted in Stats.StageErrors and appended
// to Page.StageErrors, and so reaches the record's error field; the next
// stage then runs and Process returns no error, so one bad page never
// stops a crawl. With Config.FailOnStageError, Process stops at the first
// stage error and returns it. An exporter's write error is always returned:
// a record that cannot be written must stop the crawl rather than vanish.
//
// # Concurrency and backpressure
//
// The issue asks for stages on a bounded number of goroutines with bounded
// queues, so that a slow exporter slows fetching instead of growing memory.
// Pipeline gets that bound by starting no goroutines and having no queue:
// Process runs every stage in the goroutine that calls it, which is one of
// the crawler's fixed pool of workers. So the number of pages inside the
// pipeline never exceeds the number of workers (the "queue" is the worker
// pool itself, its bound is Workers), and backpressure is immediate: a
// worker stuck in a slow exporter fetches nothing until the record is
// written. Process is safe for concurrent use; a Page is handled by one
// goroutine at a time. Exporters serialize writes with a mutex and hand
// each record to the underlying io.Writer in one Write call, so lines
// never interleave and, when Process returns, the record has reached the
// OS: the crawler acknowledges the frontier lease only after that, which
// makes a killed crawl lose no record it acknowledged. Close waits for the
// running Process calls, then flushes and closes the exporters; Flush
// flushes them for a graceful stop. Both are idempotent.
//
// Process does not keep the Page after it returns (records hold copies of
// everything), so the caller may recycle Page.Body's buffer once Process
// has returned, provided its own stages did not keep it.
//
// # Files
//
//   - pipeline.go: Stage, StageFunc, Exporter, ErrDrop, Named, Config,
//     Pipeline (New, Process, Flush, Close, Stats).
//   - page.go: Page and Link; Doc, Text, Charset, ContentType, IsHTML.
//   - charset.go: charset detection and decoding to UTF-8.
//   - extract.go: the one-pass extraction of links, base, canonical,
//     title and robots directives; scanfast.go its fast scanner.
//   - stages.go: Select/Selectors, Filter, OnHTML/MustOnHTML, Page.AbsURL.
//   - items.go: Page.Emit, Items, ItemsOf and the ItemJSONL and ItemCSV
//     exporters.
//   - record.go: Record and its hand-written JSON encoding.
//   - export.go: the JSONL and CSV exporters.
package pipeline
