package events

import (
	"context"
	"encoding/json"
	"time"

	ev "github.com/memoryd/memoryd/gen/events"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/auth"
)

// AppendUserActivity appends a user.activity event to workspace ws's log,
// so it is replayable like any change. Key administration (key.created,
// key.revoked) calls it once per workspace of the key; connID is "" then.
func AppendUserActivity(ctx context.Context, st memoryd.EventAppender, ws, user, keyID, connID string, action ev.UserActivityAction) error {
	now := time.Now().UTC()
	a := ev.UserActivity{UserId: user, Action: action, Timestamp: now}
	if keyID != "" {
		a.KeyId = &keyID
	}
	if connID != "" {
		a.ConnectionId = &connID
	}
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return st.AppendEvent(ctx, &memoryd.Event{Workspace: ws, Type: memoryd.EventUserActivity, Payload: b, CreatedAt: now})
}

// activity records a stream connecting or disconnecting. A failure is
// logged, not fatal: the stream itself works without it.
func (s *Stream) activity(ctx context.Context, p *auth.Principal, connID string, action ev.UserActivityAction) {
	if s.cfg.DisableActivity {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := AppendUserActivity(ctx, s.store, p.Workspace, p.Key.User, p.Key.ID, connID, action); err != nil {
		s.log.WarnContext(ctx, "stream: appending user.activity", "err", err, "action", action)
	}
}
