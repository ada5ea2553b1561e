"""The live stream: Server-Sent Events parsed as the WHATWG processing
model says, typed with the generated event models, and a connection loop
that reconnects by itself from the last position seen."""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Dict, Iterator, Optional

from . import models
from .errors import MemorydError, error_from

# Each event type's generated payload model.
PAYLOADS = {
    "welcome": models.Welcome,
    "restart": models.Restart,
    "heartbeat": models.Heartbeat,
    "error": models.StreamError,
    "memory.created": models.MemoryCreated,
    "memory.updated": models.MemoryUpdated,
    "memory.deleted": models.MemoryDeleted,
    "search.performed": models.SearchPerformed,
    "user.activity": models.UserActivity,
    "system.health": models.SystemHealth,
    "analytics.update": models.AnalyticsUpdate,
}

# Codes after which reconnecting cannot help.
FINAL = {"INVALID_REQUEST", "UNAUTHORIZED", "FORBIDDEN", "NOT_ACCEPTABLE", "NOT_FOUND"}


@dataclass
class Event:
    """One message of the stream. ``id`` is its position ("" when it has
    none), ``data`` the decoded JSON, ``payload`` the same as its generated
    model (None for a type this client does not know)."""

    id: str
    type: str
    data: Any
    payload: Any = None


def parse(lines: Iterator[bytes]) -> Iterator[tuple]:
    """Yields ("event", type, data, id_or_None) and ("retry", ms) items from
    the raw lines of an event stream; an event not ended by a blank line
    is never yielded."""
    data: list = []
    etype = ""
    eid: Optional[str] = None
    for raw in lines:
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if line == "":
            if data:
                yield ("event", etype or "message", "\n".join(data), eid)
            data, etype, eid = [], "", None
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            data.append(value)
        elif name == "event":
            etype = value
        elif name == "id" and "\0" not in value:
            eid = value
        elif name == "retry" and value.isdigit():
            yield ("retry", int(value))


def decode(etype: str, data: str, eid: Optional[str]) -> Event:
    try:
        obj = json.loads(data)
    except ValueError:
        obj = data
    payload = None
    model = PAYLOADS.get(etype)
    if model is not None and isinstance(obj, dict):
        try:
            payload = model.from_dict(obj)
        except (KeyError, TypeError, ValueError):
            payload = None
    return Event(id=eid or "", type=etype, data=obj, payload=payload)


class _Ended(Exception):
    """A connection ended; wait says how long the server asked to wait."""

    def __init__(self, progressed: bool, wait: Optional[float] = None):
        super().__init__("stream connection ended")
        self.progressed = progressed
        self.wait = wait


def stream_events(url: str, headers: Dict[str, str], last_event_id: Optional[str],
                  max_backoff: float, read_timeout: float) -> Iterator[Event]:
    """Follows the stream at url, reconnecting after the server's ``retry:``
    advice (doubled for each failure in a row, up to max_backoff; as long
    as a 429 or 503 asks), resuming from the last position seen, so no
    event is missed or repeated. A ``restart`` event means that position
    was unusable (e.g. past retention): the stream goes on from the end and
    the caller should rebuild its state. A refusal that reconnecting cannot
    cure (400, 401, 403, 406, or an ``error`` event UNAUTHORIZED or
    FORBIDDEN) is raised as its MemorydError. read_timeout bounds a silent
    connection (the server sends a keepalive every 15 s): past it the
    connection is opened again."""
    state = {"last": last_event_id, "retry": 3.0}
    failures = 0
    while True:
        try:
            yield from _connect(url, headers, state, read_timeout)
            ended = _Ended(True)
        except _Ended as e:
            ended = e
        failures = 0 if ended.progressed else failures + 1
        wait = ended.wait
        if wait is None:
            wait = min(state["retry"] * (2 ** max(failures - 1, 0)), max_backoff)
        time.sleep(wait)


def _connect(url: str, headers: Dict[str, str], state: Dict[str, Any], read_timeout: float) -> Iterator[Event]:
    h = dict(headers, Accept="text/event-stream")
    if state["last"]:
        h["Last-Event-ID"] = state["last"]
    req = urllib.request.Request(url, headers=h)
    try:
        resp = urllib.request.urlopen(req, timeout=read_timeout)
    except urllib.error.HTTPError as e:
        from .client import _error_of
        err = _error_of(e)
        if err.code in FINAL:
            raise err
        raise _Ended(False, err.retry_after)
    except (urllib.error.URLError, OSError, http.client.HTTPException):
        raise _Ended(False)
    progressed = False
    try:
        for item in parse(_lines(resp)):
            if item[0] == "retry":
                state["retry"] = item[1] / 1000.0
                continue
            _, etype, data, eid = item
            progressed = True
            if eid is not None:
                state["last"] = eid
            ev = decode(etype, data, eid)
            yield ev
            if isinstance(ev.payload, models.StreamError):
                if ev.payload.code in FINAL:
                    raise error_from(200, {"error": ev.payload.code, "message": ev.payload.message}, None)
                # The server closes the stream after an error event.
                raise _Ended(True, ev.payload.retry_after / 1000.0)
    finally:
        resp.close()
    raise _Ended(progressed)


def _lines(resp: Any) -> Iterator[bytes]:
    """The response's lines until it ends or breaks (a cut connection)."""
    while True:
        try:
            line = resp.readline()
        except (OSError, http.client.HTTPException, socket.timeout, ValueError):
            return
        if not line:
            return
        yield line


__all__ = ["Event", "MemorydError", "stream_events", "parse", "decode"]
