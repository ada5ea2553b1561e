package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	memoryd "github.com/memoryd/memoryd/server"
)

// envelope is the REST API's error body, which a failed tool call carries
// as its structured content.
type envelope struct {
	Error   string         `json:"error"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

// fail turns err into a tool error (isError): a model reads the code and
// message and can correct its call; a program reads the envelope. Errors
// that are not *memoryd.Error are internal: logged, shown generically.
func (b binder) fail(ctx context.Context, tool string, err error) *sdk.CallToolResult {
	var e *memoryd.Error
	if !errors.As(err, &e) || e.Code == "" {
		level := slog.LevelError
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			level = slog.LevelDebug // the client went away; nothing failed here
		}
		b.log.Log(ctx, level, "internal error", "err", err, "tool", tool)
		e = &memoryd.Error{Code: memoryd.EINTERNAL, Message: "Internal server error"}
	}
	env := envelope{Error: e.Code, Message: e.Message, Details: e.Details}
	text := e.Code + ": " + e.Message
	if len(e.Details) > 0 {
		if d, err := json.Marshal(e.Details); err == nil {
			text += "\ndetails: " + string(d)
		}
	}
	return &sdk.CallToolResult{IsError: true, Content: []sdk.Content{&sdk.TextContent{Text: text}},
		StructuredContent: env}
}
