package mcp

import (
	"context"
	"io"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/memoryd/memoryd/server/service"
)

// ServeStdio serves the tools on in and out (newline-delimited JSON-RPC,
// as MCP's stdio transport), acting as actor, until ctx ends or the
// client closes in. The process that runs it has the database itself:
// whoever may start it may act in actor's workspace, so no key is asked.
func ServeStdio(ctx context.Context, svc *service.Service, actor service.Actor, in io.ReadCloser, out io.WriteCloser, opts ...Option) error {
	srv, err := New(svc, func(context.Context, *sdk.CallToolRequest) (service.Actor, error) { return actor, nil }, opts...)
	if err != nil {
		return err
	}
	return srv.Run(ctx, &sdk.IOTransport{Reader: in, Writer: out})
}
