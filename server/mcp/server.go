// Package mcp serves memoryd's memory operations to agents as Model
// Context Protocol tools: store, search, get, list, update and delete. A
// tool call goes through the same service as the REST API, so it is
// validated the same way and writes the same events (they show on the
// stream). Two transports: streamable HTTP on the API server, behind its
// keys and workspaces (Handler), and stdio for a desktop agent that starts
// memoryd itself (ServeStdio).
package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"regexp"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/service"
)

// Identify returns who performs a tool call: the key and workspace of an
// HTTP request, or the workspace stdio serves. Its errors are
// *memoryd.Error (UNAUTHORIZED, FORBIDDEN).
type Identify func(ctx context.Context, req *sdk.CallToolRequest) (service.Actor, error)

// Option configures the server New returns.
type Option func(*options)

type options struct {
	log          *slog.Logger
	version      string
	maxBodyBytes int64
}

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithVersion sets the version the server reports to clients.
func WithVersion(v string) Option { return func(o *options) { o.version = v } }

func newOptions(opts []Option) options {
	o := options{log: slog.Default(), version: "dev"}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// instructions tell the model what the server is for.
const instructions = `memoryd stores memories (short texts with optional JSON metadata) ` +
	`and finds them again by meaning. Search before answering questions about the user, ` +
	`their preferences, past decisions or earlier conversations; store what is worth ` +
	`remembering, one fact per memory, with metadata such as {"type": "preference", "tags": ["work"]}.`

// New returns an MCP server whose tools act through svc as the caller who
// names. It fails only when the embedded API spec lacks a schema a tool
// is derived from.
func New(svc *service.Service, who Identify, opts ...Option) (*sdk.Server, error) {
	o := newOptions(opts)
	in, err := inputSchemas()
	if err != nil {
		return nil, err
	}
	srv := sdk.NewServer(&sdk.Implementation{Name: "memoryd", Title: "memoryd memory", Version: o.version},
		&sdk.ServerOptions{Instructions: instructions, Logger: slog.New(quiet{o.log.Handler()})})
	t := &tools{svc: svc}
	b := binder{srv: srv, who: who, log: o.log}
	if err := errors.Join(
		add(b, storeTool, in.store, t.store),
		add(b, searchTool, in.search, t.search),
		add(b, getTool, in.get, t.get),
		add(b, listTool, in.list, t.list),
		add(b, updateTool, in.update, t.update),
		add(b, deleteTool, in.delete, t.delete),
	); err != nil {
		return nil, err
	}
	return srv, nil
}

// binder adds tools to one server.
type binder struct {
	srv *sdk.Server
	who Identify
	log *slog.Logger
}

// result is what a tool returns: the structured value (the REST API's
// response body) and a text for the model to read.
type result struct {
	value any
	text  string
}

// add registers a tool whose arguments are checked against schema, then
// decoded into In, before run sees them.
func add[In any](b binder, def sdk.Tool, schema *jsonschema.Schema,
	run func(ctx context.Context, a service.Actor, in In) (result, error)) error {
	resolved, err := schema.Resolve(&jsonschema.ResolveOptions{ValidateDefaults: true})
	if err != nil {
		return err
	}
	def.InputSchema = schema
	b.srv.AddTool(&def, func(ctx context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
		a, err := b.who(ctx, req)
		if err != nil {
			return b.fail(ctx, def.Name, err), nil
		}
		var in In
		if err := decode(resolved, req.Params.Arguments, &in); err != nil {
			return b.fail(ctx, def.Name, err), nil
		}
		res, err := run(ctx, a, in)
		if err != nil {
			return b.fail(ctx, def.Name, err), nil
		}
		return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: res.text}},
			StructuredContent: res.value}, nil
	})
	return nil
}

// decode checks the arguments against the tool's schema, fills in its
// defaults, and decodes them. A top-level null is taken as an absent
// argument: models often send one for "not given".
func decode(schema *jsonschema.Resolved, raw json.RawMessage, v any) error {
	args := map[string]any{}
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &args); err != nil {
			return &memoryd.Error{Code: memoryd.EINVALID, Message: "Arguments must be a JSON object"}
		}
	}
	for k, v := range args {
		if v == nil {
			delete(args, k)
		}
	}
	if err := schema.ApplyDefaults(&args); err != nil {
		return invalidArgs(err)
	}
	if err := schema.Validate(args); err != nil {
		return invalidArgs(err)
	}
	b, err := json.Marshal(args)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return invalidArgs(err)
	}
	return nil
}

// argPath finds the argument a validation error is about.
var argPath = regexp.MustCompile(`validating /properties/([^/:]+)`)

var numbers = regexp.MustCompile(`\b(\d+)(/1|\.0+)\b`)

// invalidArgs is the INVALID_REQUEST of arguments that do not fit the
// schema, naming the argument in details.fields as the API does.
func invalidArgs(err error) *memoryd.Error {
	msg := strings.TrimPrefix(err.Error(), "validating root: ")
	// The validator prints numbers as rationals and floats: 500/1, 100.000000.
	msg = numbers.ReplaceAllString(msg, "$1")
	e := &memoryd.Error{Code: memoryd.EINVALID, Message: "Invalid arguments: " + msg}
	if m := argPath.FindStringSubmatch(msg); m != nil {
		reason := msg[strings.LastIndex(msg, ": ")+2:]
		e.Details = map[string]any{"fields": map[string]any{m[1]: reason}}
	}
	return e
}

// quiet passes on warnings and errors only: the SDK logs every session
// at info, and over HTTP every request is a session.
type quiet struct{ slog.Handler }

func (q quiet) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && q.Handler.Enabled(ctx, l)
}

func (q quiet) WithAttrs(as []slog.Attr) slog.Handler { return quiet{q.Handler.WithAttrs(as)} }

func (q quiet) WithGroup(name string) slog.Handler { return quiet{q.Handler.WithGroup(name)} }
