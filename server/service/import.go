package service

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"

	memoryd "github.com/memoryd/memoryd/server"
)

// ImportOptions control an import.
type ImportOptions struct {
	// Skip is how many lines to pass over first: the LastCommittedLine
	// of an interrupted import, to resume it.
	Skip int
	// StopOnError stops at the first refused line (after committing the
	// lines before it); otherwise refused lines are reported and skipped.
	StopOnError bool
	// Reembed embeds every text again, whatever vector a line carries.
	Reembed bool
	// Progress, when set, gets the report after each committed batch.
	Progress func(ImportReport)
}

// ImportError is one refused line.
type ImportError struct {
	Line    int    `json:"line"`
	Code    string `json:"error"`
	Message string `json:"message"`
}

// ImportReport says what an import did. LastCommittedLine is the last
// line (1-based, counting skipped ones) up to which everything is
// stored or reported: resume with Skip = LastCommittedLine.
type ImportReport struct {
	Lines             int           `json:"lines"`
	Imported          int           `json:"imported"`
	Created           int           `json:"created"`
	Updated           int           `json:"updated"`
	Reembedded        int           `json:"reembedded"`
	Failed            int           `json:"failed"`
	LastCommittedLine int           `json:"last_committed_line"`
	Errors            []ImportError `json:"errors"`
	ErrorsTruncated   bool          `json:"errors_truncated"`
}

// Import limits: a line holds one memory (text, metadata, a vector of up
// to 8192 numbers); importBatch lines are stored per transaction;
// maxReported errors are listed, the rest only counted.
const (
	MaxImportLine = 1 << 20
	importBatch   = 500
	maxReported   = 1000
)

// Import reads NDJSON Lines from r and stores them with PutBatch,
// importBatch lines per transaction. A line's vector is kept when it
// was made by this server's embedder model with its dimension, or
// supplied by a client with this dimension; otherwise its text is
// embedded again. The error is for the whole import (the store failed,
// or reading r did): the report still says what was committed.
func (s *Service) Import(ctx context.Context, a Actor, r io.Reader, o ImportOptions) (*ImportReport, error) {
	im := &importer{s: s, a: a, o: o, rep: &ImportReport{Errors: []ImportError{}}, ids: map[string]bool{}}
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		raw, err := readLine(br)
		eof := errors.Is(err, io.EOF)
		if err != nil && !eof && !errors.Is(err, errLongLine) {
			return im.rep, err
		}
		if long := errors.Is(err, errLongLine); raw != nil || long {
			if done, err := im.line(ctx, raw, long); done || err != nil {
				return im.rep, err
			}
		}
		if eof {
			return im.rep, im.flush(ctx)
		}
	}
}

// importer is one import in progress: the batch being gathered and the
// report.
type importer struct {
	s     *Service
	a     Actor
	o     ImportOptions
	rep   *ImportReport
	batch []batchInput
	lines []int
	ids   map[string]bool // ids in batch: a repeated id starts a new batch
}

// line takes one line; done reports that the import stops here.
func (im *importer) line(ctx context.Context, raw []byte, long bool) (done bool, err error) {
	im.rep.Lines++
	n := im.rep.Lines
	if n <= im.o.Skip {
		im.rep.LastCommittedLine = n
		return false, nil
	}
	in, lerr := im.s.parseLine(raw, long, im.o.Reembed)
	if lerr != nil {
		if im.o.StopOnError {
			if err := im.flush(ctx); err != nil || im.rep.Failed > 0 {
				return true, err
			}
			im.rep.fail(n, lerr)
			return true, nil
		}
		im.rep.fail(n, lerr)
		if len(im.batch) == 0 {
			im.rep.LastCommittedLine = n
		}
		return false, nil
	}
	if in.ID != "" && im.ids[in.ID] {
		if err := im.flush(ctx); err != nil {
			return true, err
		}
	}
	if in.reembedded {
		im.rep.Reembedded++
	}
	im.batch, im.lines = append(im.batch, in.batchInput), append(im.lines, n)
	if in.ID != "" {
		im.ids[in.ID] = true
	}
	if len(im.batch) < importBatch {
		return false, nil
	}
	err = im.flush(ctx)
	return err != nil || im.o.StopOnError && im.rep.Failed > 0, err
}

// flush stores the gathered batch; the lines up to its last are then
// committed.
func (im *importer) flush(ctx context.Context) error {
	if len(im.batch) == 0 {
		return nil
	}
	last := im.lines[len(im.lines)-1]
	if err := im.s.importBatch(ctx, im.a, im.batch, im.lines, im.rep); err != nil {
		return err
	}
	im.rep.LastCommittedLine = last
	im.batch, im.lines = im.batch[:0], im.lines[:0]
	clear(im.ids)
	if im.o.Progress != nil {
		im.o.Progress(*im.rep)
	}
	return nil
}

// importBatch stores one batch and counts its outcome.
func (s *Service) importBatch(ctx context.Context, a Actor, batch []batchInput, lines []int, rep *ImportReport) error {
	if len(batch) == 0 {
		return nil
	}
	res, err := s.putItems(ctx, a, batch)
	if err != nil {
		return err
	}
	for k, it := range res {
		switch {
		case it.Err != nil:
			rep.fail(lines[k], it.Err)
		case it.Result.Created:
			rep.Imported++
			rep.Created++
		default:
			rep.Imported++
			rep.Updated++
		}
	}
	return nil
}

func (rep *ImportReport) fail(line int, err error) {
	rep.Failed++
	if len(rep.Errors) >= maxReported {
		rep.ErrorsTruncated = true
		return
	}
	rep.Errors = append(rep.Errors, ImportError{Line: line, Code: memoryd.ErrorCode(err), Message: clientMessage(err)})
}

// clientMessage is err's message for the client; internal errors stay
// in the log.
func clientMessage(err error) string {
	var e *memoryd.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error"
}

type importInput struct {
	batchInput
	reembedded bool // the line had a vector this server does not use
}

// parseLine turns one line into a put; long says it was too long to read.
func (s *Service) parseLine(raw []byte, long bool, reembed bool) (importInput, error) {
	if long {
		return importInput{}, memoryd.Errorf(memoryd.EINVALID, "line is longer than %d bytes", MaxImportLine)
	}
	var l Line
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&l); err != nil {
		return importInput{}, memoryd.Errorf(memoryd.EINVALID, "line is not a JSON memory: %v", err)
	}
	if dec.More() {
		return importInput{}, memoryd.Errorf(memoryd.EINVALID, "line holds more than one JSON value")
	}
	in := importInput{batchInput: batchInput{PutInput: PutInput{ID: l.ID, Text: l.Text, Metadata: l.Metadata}}}
	if l.Text == "" {
		return in, &memoryd.Error{Code: memoryd.EINVALID, Message: "Text field is required",
			Details: map[string]any{"missing_fields": []string{"text"}}}
	}
	if err := s.checkPut(in.PutInput); err != nil {
		return in, err
	}
	if l.Embedding == nil {
		return in, nil
	}
	keep := !reembed && len(l.Embedding) == s.embedder.Dims() &&
		(l.EmbeddingModel == "client" || l.EmbeddingModel == s.embedder.Model())
	if !keep {
		in.reembedded = true
		return in, nil
	}
	in.Embedding, in.Model = l.Embedding, l.EmbeddingModel
	return in, s.checkVector("embedding", l.Embedding)
}

var errLongLine = errors.New("line too long")

// readLine returns the next non-empty line without its newline; a line
// over MaxImportLine is consumed and reported as errLongLine.
func readLine(br *bufio.Reader) ([]byte, error) {
	for {
		var line []byte
		for {
			chunk, err := br.ReadSlice('\n')
			if len(line)+len(chunk) > MaxImportLine+1 {
				if err := skipLine(br, err); err != nil && !errors.Is(err, io.EOF) {
					return nil, err
				}
				return nil, errLongLine
			}
			line = append(line, chunk...)
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			line = bytes.TrimSpace(line)
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, err
			}
			if len(line) == 0 {
				if err != nil {
					return nil, err
				}
				break // blank line
			}
			return line, err
		}
	}
}

func skipLine(br *bufio.Reader, err error) error {
	for errors.Is(err, bufio.ErrBufferFull) {
		_, err = br.ReadSlice('\n')
	}
	return err
}
