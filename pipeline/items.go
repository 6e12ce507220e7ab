package pipeline

import (
	"context"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Emit adds v, a value of the caller's own type, to the page's items: what
// item exporters (ItemJSONL, ItemCSV) write, one line per item, besides (or
// instead of) the page's record. A stage or an OnHTML func may emit any
// number of items per page; they are kept in emit order. Like the rest of
// Page, Emit is not safe for concurrent use.
func (p *Page) Emit(v any) { p.items = append(p.items, v) }

// Items returns the values emitted for the page so far, in emit order.
func (p *Page) Items() []any { return p.items }

// ItemsOf returns the page's items of type T, in emit order: a typed view
// of Items for stages that consume items (storing them, say).
func ItemsOf[T any](p *Page) []T {
	var out []T
	for _, it := range p.items {
		if v, ok := it.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// ItemJSONL is an exporter writing each item of type T of a page (see
// Page.Emit) as one JSON object per line, encoded by encoding/json; items
// of other types are left to other exporters. Like JSONL it writes each
// item, newline included, in one Write call under a mutex, before Process
// returns: a crawl acknowledges a page only after its items are written,
// and a slow writer slows the crawl (the same backpressure as records).
// Noindex pages are skipped unless the pipeline's ExportNoIndex. It is safe
// for concurrent use.
type ItemJSONL[T any] struct {
	w writer
}

// NewItemJSONL returns an exporter writing items of type T to w. Close does
// not close w.
func NewItemJSONL[T any](w io.Writer) *ItemJSONL[T] { return &ItemJSONL[T]{w: writer{w: w}} }

// String names the stage in error messages.
func (e *ItemJSONL[T]) String() string { return "items jsonl" }

// Process writes the page's items of type T.
func (e *ItemJSONL[T]) Process(_ context.Context, p *Page) error {
	for _, it := range p.items {
		v, ok := it.(T)
		if !ok {
			continue
		}
		if err := e.Write(v); err != nil {
			return err
		}
	}
	return nil
}

// Write writes one item as one line.
func (e *ItemJSONL[T]) Write(v T) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("pipeline: items jsonl: %w", err)
	}
	err = e.w.write(append(b, '\n'), nil)
	if err != nil && !errors.Is(err, ErrExporterClosed) {
		return &exportError{"items jsonl", err}
	}
	return err
}

// Items returns the number of items written.
func (e *ItemJSONL[T]) Items() int64 { return e.w.count() }

// Flush flushes the underlying writer if it has a Flush() error method.
func (e *ItemJSONL[T]) Flush() error { return e.w.flush() }

// Close flushes and makes later writes fail with ErrExporterClosed. It is
// idempotent and does not close the underlying writer.
func (e *ItemJSONL[T]) Close() error { return e.w.close() }

// ItemCSV is an exporter writing each item of type T of a page as one CSV
// line (RFC 4180, as CSV), after a header line. T is a struct, or a
// pointer to one: each exported field is a column, named by its `csv` tag,
// else by its `json` tag's name, else by the field's name; a tag "-"
// leaves the field out. Cells hold strings as they are; numbers and bools
// in Go syntax; a time.Time in RFC 3339; an encoding.TextMarshaler's or
// fmt.Stringer's text; a []string's values joined by newlines; anything
// else as JSON. Writes, backpressure and concurrency are as for ItemJSONL.
type ItemCSV[T any] struct {
	w       writer
	header  bool
	columns []string
	fields  [][]int // field index paths, one per column
	ptr     bool    // T is a pointer to the struct
}

// NewItemCSV returns an exporter writing items of type T to w; it fails
// when T is not a struct or a pointer to one, or has no exported field.
// Close does not close w.
func NewItemCSV[T any](w io.Writer) (*ItemCSV[T], error) {
	t := reflect.TypeFor[T]()
	c := &ItemCSV[T]{w: writer{w: w}}
	if t.Kind() == reflect.Pointer {
		t, c.ptr = t.Elem(), true
	}
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("pipeline: items csv: %s is not a struct", reflect.TypeFor[T]())
	}
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || f.Anonymous {
			continue
		}
		name := f.Name
		if tag, ok := f.Tag.Lookup("csv"); ok {
			name = tag
		} else if tag, ok := f.Tag.Lookup("json"); ok {
			if n, _, _ := strings.Cut(tag, ","); n != "" {
				name = n
			}
		}
		if name == "-" {
			continue
		}
		c.columns = append(c.columns, name)
		c.fields = append(c.fields, f.Index)
	}
	if len(c.columns) == 0 {
		return nil, fmt.Errorf("pipeline: items csv: %s has no exported field", t)
	}
	return c, nil
}

// Columns returns the header's column names.
func (c *ItemCSV[T]) Columns() []string { return append([]string(nil), c.columns...) }

// String names the stage in error messages.
func (c *ItemCSV[T]) String() string { return "items csv" }

// Process writes the page's items of type T.
func (c *ItemCSV[T]) Process(_ context.Context, p *Page) error {
	for _, it := range p.items {
		v, ok := it.(T)
		if !ok {
			continue
		}
		if err := c.Write(v); err != nil {
			return err
		}
	}
	return nil
}

// Write writes one item as one line (preceded by the header the first
// time). A nil pointer item is written as empty cells.
func (c *ItemCSV[T]) Write(v T) error {
	bp := getBuf()
	rv := reflect.ValueOf(&v).Elem()
	if c.ptr {
		rv = rv.Elem()
	}
	b := *bp
	for i, idx := range c.fields {
		if i > 0 {
			b = append(b, ',')
		}
		cell := ""
		if rv.IsValid() {
			if f, err := rv.FieldByIndexErr(idx); err == nil {
				cell = csvCell(f)
			}
		}
		b = appendCSVField(b, cell)
	}
	b = append(b, '\n')
	err := c.w.write(b, c.headerOnce)
	*bp = b
	putBuf(bp)
	if err != nil && !errors.Is(err, ErrExporterClosed) {
		return &exportError{"items csv", err}
	}
	return err
}

// headerOnce returns the header line the first time (under the writer's
// lock).
func (c *ItemCSV[T]) headerOnce(b []byte) []byte {
	if c.header {
		return nil
	}
	c.header = true
	return appendCSVLine(b, c.columns)
}

var (
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	stringer      = reflect.TypeFor[fmt.Stringer]()
	timeType      = reflect.TypeFor[time.Time]()
)

// csvCell is the text of one field's value.
func csvCell(v reflect.Value) string {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	switch {
	case v.Type() == timeType:
		return v.Interface().(time.Time).Format(time.RFC3339Nano)
	case v.Type().Implements(textMarshaler):
		if b, err := v.Interface().(encoding.TextMarshaler).MarshalText(); err == nil {
			return string(b)
		}
	case v.Type().Implements(stringer):
		return v.Interface().(fmt.Stringer).String()
	}
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, v.Type().Bits())
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.String {
			parts := make([]string, v.Len())
			for i := range parts {
				parts[i] = v.Index(i).String()
			}
			return strings.Join(parts, "\n")
		}
	}
	b, err := json.Marshal(v.Interface())
	if err != nil {
		return ""
	}
	return string(b)
}

// Items returns the number of items written.
func (c *ItemCSV[T]) Items() int64 { return c.w.count() }

// Flush flushes the underlying writer if it has a Flush() error method.
func (c *ItemCSV[T]) Flush() error { return c.w.flush() }

// Close writes the header if no item was written, flushes, and makes later
// writes fail with ErrExporterClosed. It is idempotent and does not close
// the underlying writer.
func (c *ItemCSV[T]) Close() error {
	c.w.mu.Lock()
	if !c.w.closed && !c.header {
		if h := c.headerOnce(nil); len(h) > 0 {
			if _, err := c.w.w.Write(h); err != nil {
				c.w.mu.Unlock()
				return &exportError{"items csv", err}
			}
		}
	}
	c.w.mu.Unlock()
	return c.w.close()
}

var (
	_ Exporter = (*ItemJSONL[any])(nil)
	_ Exporter = (*ItemCSV[struct{ A string }])(nil)
)
