package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"mime"
	"net/http"
	"os"
	"time"

	"github.com/memoryd/memoryd/gen/api"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/service"
)

// ExportMemories streams the workspace's memories as NDJSON. The cursor
// is checked first, so a bad one is a 400 rather than a broken stream.
func (s *Server) ExportMemories(ctx context.Context, req api.ExportMemoriesRequestObject) (api.ExportMemoriesResponseObject, error) {
	after := deref(req.Params.Cursor, "")
	a := actor(ctx)
	if err := s.svc.CheckExportCursor(ctx, a, after); err != nil {
		return nil, err
	}
	return exportStream{s: s, ctx: ctx, a: a, after: after}, nil
}

// exportStream writes the export itself: through a large buffer flushed
// once per page, not once per 4 KiB as the generated writer would.
type exportStream struct {
	s     *Server
	ctx   context.Context
	a     service.Actor
	after string
}

func (e exportStream) VisitExportMemoriesResponse(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 256<<10)
	rc := http.NewResponseController(w)
	_, err := e.s.svc.Export(e.ctx, e.a, e.after, bw, func(int) {
		_ = bw.Flush()
		_ = rc.Flush()
	})
	if err != nil && e.ctx.Err() == nil {
		// Headers are gone: the error becomes the last line, so a reader
		// cannot take a cut export for a whole one.
		e.s.itemErrorLine(e.ctx, bw, err)
	}
	return bw.Flush()
}

// itemErrorLine writes err's envelope as one NDJSON line.
func (s *Server) itemErrorLine(ctx context.Context, w io.Writer, err error) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s.itemError(ctx, -1, err))
}

// ImportMemories reads NDJSON memories from the body and stores them.
func (s *Server) ImportMemories(ctx context.Context, req api.ImportMemoriesRequestObject) (api.ImportMemoriesResponseObject, error) {
	p := req.Params
	skip := deref(p.Skip, 0)
	if skip < 0 {
		return nil, &memoryd.Error{Code: memoryd.EINVALID, Message: "skip must be 0 or more",
			Details: map[string]any{"fields": map[string]any{"skip": "must be >= 0"}}}
	}
	rep, err := s.svc.Import(ctx, actor(ctx), req.Body, service.ImportOptions{
		Skip: skip, StopOnError: deref(p.StopOnError, false), Reembed: deref(p.Reembed, false)})
	if err != nil {
		return nil, s.importError(ctx, err, rep)
	}
	return api.ImportMemories200JSONResponse(toAPIReport(rep)), nil
}

// importError is the envelope of an import that stopped midway; its
// details say up to which line the body was committed.
func (s *Server) importError(ctx context.Context, err error, rep *service.ImportReport) error {
	var e *memoryd.Error
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		e = &memoryd.Error{Code: memoryd.ETOOLARGE, Message: "Import body is larger than the server accepts",
			Details: map[string]any{"max_import_bytes": mbe.Limit}}
	case errors.Is(err, os.ErrDeadlineExceeded):
		limit := s.cfg.ReadTimeout
		if hs, ok := ctx.Value(http.ServerContextKey).(*http.Server); ok && hs.ReadTimeout > 0 {
			limit = hs.ReadTimeout
		}
		s.log.WarnContext(ctx, "import body too slow", "read_timeout", limit, "request_id", requestID(ctx))
		e = &memoryd.Error{Code: memoryd.EINVALID,
			Message: "Import body did not bring 64 KiB within the server's read timeout (" + limit.String() + ")",
			Details: map[string]any{"read_timeout_seconds": limit.Seconds(), "min_bytes": minImportBytes}}
	case errors.As(err, &e):
		c := &memoryd.Error{Code: e.Code, Message: e.Message, Details: map[string]any{}}
		maps.Copy(c.Details, e.Details)
		e = c
	default:
		s.log.ErrorContext(ctx, "import failed", "err", err, "request_id", requestID(ctx))
		e = &memoryd.Error{Code: memoryd.EUNAVAILABLE, Message: "The import stopped: the store failed", Details: map[string]any{}}
	}
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	if rep != nil {
		e.Details["last_committed_line"] = rep.LastCommittedLine
	}
	return e
}

func toAPIReport(r *service.ImportReport) api.ImportReport {
	out := api.ImportReport{Lines: r.Lines, Imported: r.Imported, Created: r.Created, Updated: r.Updated,
		Reembedded: r.Reembedded, Failed: r.Failed, LastCommittedLine: r.LastCommittedLine,
		ErrorsTruncated: r.ErrorsTruncated, Errors: make([]api.ImportLineError, len(r.Errors))}
	for i, e := range r.Errors {
		out.Errors[i] = api.ImportLineError{Line: e.Line, Error: e.Code, Message: e.Message}
	}
	return out
}

// minImportBytes is how much of an import body must arrive within each
// read timeout: an import may take far longer than the read timeout as
// long as it keeps coming, while a body that trickles is still cut.
const minImportBytes = 64 << 10

// importBody is an import's body. Its read deadline runs only while the
// server waits for the client: storing a batch between reads does not
// count against it.
type importBody struct {
	io.ReadCloser
	rc     *http.ResponseController
	window time.Duration
	waited time.Duration // waiting since the last minImportBytes arrived
	got    int
}

func (b *importBody) Read(p []byte) (int, error) {
	start := time.Now()
	_ = b.rc.SetReadDeadline(start.Add(b.window - b.waited))
	n, err := b.ReadCloser.Read(p)
	b.waited += time.Since(start)
	if b.got += n; b.got >= minImportBytes {
		b.got, b.waited = 0, 0
	}
	return n, err
}

// readTimeout is the read timeout of r's server (the deadline that
// runs), else the configured one.
func (s *Server) readTimeout(r *http.Request) time.Duration {
	if hs, ok := r.Context().Value(http.ServerContextKey).(*http.Server); ok && hs.ReadTimeout > 0 {
		return hs.ReadTimeout
	}
	return s.cfg.ReadTimeout
}

// isImport reports whether r is an import, whose body is a stream.
func (s *Server) isImport(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Path == s.base+"/memory/import"
}

// importFirst routes an import straight to its handler, past the JSON
// checks and the request validator: both would read the whole body into
// memory. The generated wrapper still parses its parameters, the
// handler checks the rest, and only NDJSON is taken.
func (s *Server) importFirst(next, routes http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.isImport(r) {
			next.ServeHTTP(w, r)
			return
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-ndjson" {
			writeError(w, r, s.log, &memoryd.Error{Code: memoryd.EINVALID, Message: "An import body is application/x-ndjson",
				Details: map[string]any{"content_type": r.Header.Get("Content-Type")}})
			return
		}
		routes.ServeHTTP(w, r)
	})
}
