package events

import (
	"encoding/base64"
	"strconv"
	"strings"

	ev "github.com/memoryd/memoryd/gen/events"
)

// A position names a point of the event log: the log's epoch and a sequence
// number. On the wire it is opaque, base64url("<epoch>.<seq>"), so clients
// never compute with it and a log recreated from scratch (new epoch) never
// accepts an old position by accident.

// encodePosition returns the opaque position of seq in epoch.
func encodePosition(epoch string, seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(epoch + "." + strconv.FormatInt(seq, 10)))
}

// positionError says why a position cannot be resumed from; Reason is the
// restart message's reason.
type positionError struct {
	Reason  ev.RestartReason
	Message string
}

func (e *positionError) Error() string { return string(e.Reason) + ": " + e.Message }

// decodePosition parses pos, checking only its form and epoch.
func decodePosition(pos, epoch string) (int64, *positionError) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(pos, "="))
	if err != nil {
		return 0, &positionError{ev.Malformed, "The position is not one this server issued"}
	}
	dot := strings.LastIndexByte(string(raw), '.')
	if dot < 0 {
		return 0, &positionError{ev.Malformed, "The position is not one this server issued"}
	}
	seq, err := strconv.ParseInt(string(raw[dot+1:]), 10, 64)
	if err != nil || seq < 0 {
		return 0, &positionError{ev.Malformed, "The position is not one this server issued"}
	}
	if string(raw[:dot]) != epoch {
		return 0, &positionError{ev.ForeignEpoch, "The position belongs to another event log (the database was recreated)"}
	}
	return seq, nil
}

// checkRange classifies seq against the log's bounds: first is the lowest
// retained sequence (0 when the log is empty), head the highest known.
// Resuming after seq needs every event after it, so seq may be at most one
// below the first retained event.
func checkRange(seq, first, head int64) *positionError {
	if seq > head {
		return &positionError{ev.Future, "The position is ahead of the event log"}
	}
	if first > 0 && seq < first-1 {
		return &positionError{ev.Pruned, "The events after this position are no longer retained"}
	}
	return nil
}
