"""memoryd's REST API on the standard library: upsert, get, update,
delete, list (every page), search, and the live stream (see stream.py)."""

from __future__ import annotations

import email.utils
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Iterator, List, Optional, Sequence

from . import models
from .errors import MemorydError, error_from
from .stream import Event, stream_events

BASE_PATH = "/api/v1"


def parse_retry_after(value: Optional[str]) -> Optional[float]:
    """Seconds a Retry-After header asks for: a number or an HTTP date."""
    if not value:
        return None
    try:
        return max(float(int(value)), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


class Client:
    """A client of one memoryd with one API key.

    ``base_url`` is the server's root (``http://localhost:8080``; a trailing
    ``/api/v1`` is accepted too). A request refused with 429 is sent again
    after the wait its Retry-After asks for, up to ``max_retries`` times and
    if the wait is at most ``max_retry_wait`` seconds; otherwise the
    ``RateLimited`` error is raised.
    """

    def __init__(self, base_url: str, api_key: str, *, workspace: Optional[str] = None,
                 timeout: float = 60.0, max_retries: int = 3, max_retry_wait: float = 60.0):
        base = base_url.rstrip("/")
        if base.endswith(BASE_PATH):
            base = base[: -len(BASE_PATH)]
        self.base_url = base
        self.api_key = api_key
        self.workspace = workspace
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait

    # -- memories ---------------------------------------------------------

    def upsert(self, text: str, metadata: Optional[Dict[str, Any]] = None, *, id: Optional[str] = None,
               embedding: Optional[Sequence[float]] = None) -> models.StoreResult:
        """Stores a memory; with the ``id`` of one that exists, replaces it
        (``status`` "updated" instead of "stored")."""
        body = models.CreateMemoryRequest(text=text, metadata=metadata, id=id,
                                          embedding=list(embedding) if embedding is not None else None)
        return models.StoreResult.from_dict(self._request("POST", "/memory", body=body.to_dict()))

    def get(self, id: str) -> models.Memory:
        """The memory ``id``; raises NotFound when there is none."""
        return models.Memory.from_dict(self._request("GET", "/memory/" + _seg(id)))

    def update(self, id: str, *, text: Optional[str] = None, metadata: Optional[Dict[str, Any]] = None,
               embedding: Optional[Sequence[float]] = None) -> models.UpdateResult:
        """Changes the fields given of memory ``id``."""
        body = models.UpdateMemoryRequest(text=text, metadata=metadata,
                                          embedding=list(embedding) if embedding is not None else None)
        return models.UpdateResult.from_dict(self._request("PUT", "/memory/" + _seg(id), body=body.to_dict()))

    def delete(self, id: str) -> models.DeleteResult:
        """Deletes memory ``id``; raises NotFound when there is none."""
        return models.DeleteResult.from_dict(self._request("DELETE", "/memory/" + _seg(id)))

    def list(self, *, page_size: Optional[int] = None, type: Optional[str] = None, source: Optional[str] = None,
             tags: Optional[List[str]] = None, metadata: Optional[Dict[str, str]] = None,
             include_embedding: bool = False) -> Iterator[models.Memory]:
        """Every memory selected, page after page (the cursor is followed
        as the iteration goes)."""
        query: List[tuple] = []
        if page_size:
            query.append(("limit", str(page_size)))
        if type:
            query.append(("type", type))
        if source:
            query.append(("source", source))
        for t in tags or []:
            query.append(("tags", t))
        for k, v in (metadata or {}).items():
            query.append((f"metadata[{k}]", v))
        if include_embedding:
            query.append(("include_embedding", "true"))
        cursor = None
        while True:
            q = query + ([("cursor", cursor)] if cursor else [])
            page = models.MemoryList.from_dict(self._request("GET", "/memory", query=q))
            yield from page.memories
            if not page.has_more or not page.next_cursor:
                return
            cursor = page.next_cursor

    def search(self, query: str, *, limit: Optional[int] = None, threshold: Optional[float] = None,
               mode: Optional[str] = None, filters: Optional[Dict[str, Any]] = None,
               embedding: Optional[Sequence[float]] = None) -> models.SearchResponse:
        """Searches the memories (mode "semantic", "keyword" or "hybrid")."""
        body: Dict[str, Any] = {"query": query}
        for k, v in (("limit", limit), ("threshold", threshold), ("mode", mode), ("filters", filters)):
            if v is not None:
                body[k] = v
        if embedding is not None:
            body["embedding"] = list(embedding)
        return models.SearchResponse.from_dict(self._request("POST", "/memory/search", body=body))

    # -- stream -----------------------------------------------------------

    def stream(self, *, last_event_id: Optional[str] = None, events: Optional[List[str]] = None,
               filters: Optional[Dict[str, str]] = None, heartbeat: Optional[int] = None,
               max_backoff: float = 30.0, read_timeout: float = 120.0) -> Iterator[Event]:
        """Follows the live stream, yielding typed events; see stream.py."""
        query: List[tuple] = []
        if events:
            query.append(("events", ",".join(events)))
        for k, v in (filters or {}).items():
            query.append((f"filters[{k}]", v))
        if heartbeat:
            query.append(("heartbeat", str(heartbeat)))
        url = self.base_url + BASE_PATH + "/stream" + ("?" + urllib.parse.urlencode(query) if query else "")
        return stream_events(url, self._headers(), last_event_id, max_backoff, read_timeout)

    # -- plumbing ---------------------------------------------------------

    def _headers(self) -> Dict[str, str]:
        h = {"Authorization": "Bearer " + self.api_key, "Accept": "application/json"}
        if self.workspace:
            h["X-Workspace-ID"] = self.workspace
        return h

    def _request(self, method: str, path: str, *, body: Any = None, query: Optional[List[tuple]] = None) -> Any:
        url = self.base_url + BASE_PATH + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = json.dumps(body).encode() if body is not None else None
        headers = self._headers()
        if data is not None:
            headers["Content-Type"] = "application/json"
        attempt = 0
        while True:
            req = urllib.request.Request(url, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    raw = resp.read()
                    return json.loads(raw) if raw else {}
            except urllib.error.HTTPError as e:
                err = _error_of(e)
            if err.status != 429 or attempt >= self.max_retries or err.retry_after is None \
                    or err.retry_after > self.max_retry_wait:
                raise err
            attempt += 1
            time.sleep(err.retry_after)


def _error_of(e: urllib.error.HTTPError) -> MemorydError:
    raw = e.read()
    try:
        envelope = json.loads(raw)
    except ValueError:
        envelope = None
    return error_from(e.code, envelope, parse_retry_after(e.headers.get("Retry-After")))


def _seg(id: str) -> str:
    return urllib.parse.quote(id, safe="")
