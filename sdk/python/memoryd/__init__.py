"""Client of memoryd, a self-hostable memory service for AI agents.

    from memoryd import Client
    client = Client("http://localhost:8080", api_key)
    result = client.upsert(text="Meeting notes from Q4 planning",
                           metadata={"type": "meeting", "tags": ["planning", "q4"]})
"""

try:
    from . import models
except ImportError as e:  # pragma: no cover - a source tree without the copy
    raise ImportError("memoryd.models is missing: run sdk/python/scripts/sync-models.sh "
                      "(it copies the models generated from the spec)") from e

from .client import Client
from .errors import (Conflict, Forbidden, InvalidRequest, MemorydError, NotAcceptable, NotFound,
                     PayloadTooLarge, RateLimited, Unauthorized, Unavailable)
from .stream import Event

__version__ = "0.1.0"

__all__ = ["Client", "Event", "models", "MemorydError", "InvalidRequest", "Unauthorized", "Forbidden",
           "NotFound", "NotAcceptable", "Conflict", "PayloadTooLarge", "RateLimited", "Unavailable"]
