package mcp

import (
	"context"
	"log/slog"
	"net/http"

	mcpauth "github.com/modelcontextprotocol/go-sdk/auth"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/auth"
	"github.com/memoryd/memoryd/server/service"
)

// principalKey is where the principal travels in the SDK's token info,
// the one part of an HTTP request a tool call sees.
const principalKey = "memoryd.principal"

// WithMaxBodyBytes bounds an HTTP request body (0: the SDK's default of
// 4 MiB, which is also the API's).
func WithMaxBodyBytes(n int64) Option { return func(o *options) { o.maxBodyBytes = n } }

// Handler serves the tools over streamable HTTP. It expects the API's
// authentication in front of it (httpapi mounts it behind its keys, body
// limit, rate limit and request log): every request carries the
// principal of its bearer key and X-Workspace-ID, and the tools act as
// that key in that workspace. It is stateless: every request stands on
// its own, so any node behind a load balancer can answer it, and a
// revoked key stops working at its next request.
func Handler(svc *service.Service, opts ...Option) (http.Handler, error) {
	o := newOptions(opts)
	srv, err := New(svc, fromToken, opts...)
	if err != nil {
		return nil, err
	}
	h := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return srv }, &sdk.StreamableHTTPOptions{
		Stateless: true, JSONResponse: true, Logger: slog.New(quiet{o.log.Handler()}), MaxRequestBodyBytes: o.maxBodyBytes,
		// The SDK refuses a loopback request with another Host, against DNS
		// rebinding; a bearer key, which a rebinding page does not have,
		// already stops that, and the check would break memoryd behind a
		// reverse proxy on the same host.
		DisableLocalhostProtection: true,
	})
	return mcpauth.RequireBearerToken(verify, &mcpauth.RequireBearerTokenOptions{AllowMissingExpiration: true})(h), nil
}

// verify hands the principal that the API's authentication resolved to the
// SDK. UserID ties a session, if a client makes one, to its key and
// workspace.
func verify(_ context.Context, _ string, r *http.Request) (*mcpauth.TokenInfo, error) {
	p := auth.FromContext(r.Context())
	if p == nil {
		return nil, mcpauth.ErrInvalidToken
	}
	return &mcpauth.TokenInfo{UserID: p.Key.ID + "/" + p.Workspace, Extra: map[string]any{principalKey: p}}, nil
}

// fromToken is Identify for HTTP: the principal verify passed on.
func fromToken(_ context.Context, req *sdk.CallToolRequest) (service.Actor, error) {
	var p *auth.Principal
	if req.Extra != nil && req.Extra.TokenInfo != nil {
		p, _ = req.Extra.TokenInfo.Extra[principalKey].(*auth.Principal)
	}
	if p == nil {
		return service.Actor{}, &memoryd.Error{Code: memoryd.EUNAUTHORIZED, Message: "Missing API key: send Authorization: Bearer <key>"}
	}
	return service.Actor{Workspace: p.Workspace, User: p.Key.User, KeyID: p.Key.ID}, nil
}
