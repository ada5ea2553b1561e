import pytest

import memoryd
from memoryd import Client, models


def test_crud(server):
    client = Client(server["base_url"], server["api_key"])
    # As the seed writes it.
    result = client.upsert(
        text="Meeting notes from Q4 planning",
        metadata={
            "type": "meeting",
            "tags": ["planning", "q4"]
        }
    )
    assert isinstance(result, models.StoreResult)
    assert result.status == "stored" and result.id
    got = client.get(result.id)
    assert isinstance(got, models.Memory)
    assert got.text == "Meeting notes from Q4 planning" and got.metadata["tags"] == ["planning", "q4"]
    again = client.upsert(text="replaced", id=result.id)
    assert again.status == "updated"
    upd = client.update(result.id, text="patched")
    assert upd.id == result.id
    assert client.get(result.id).text == "patched"
    assert client.delete(result.id).deleted_id == result.id
    with pytest.raises(memoryd.NotFound) as e:
        client.get(result.id)
    assert e.value.status == 404 and e.value.code == "NOT_FOUND"
    with pytest.raises(memoryd.NotFound):
        client.delete(result.id)
    with pytest.raises(memoryd.InvalidRequest):
        client.upsert(text="")
    with pytest.raises(memoryd.Unauthorized):
        Client(server["base_url"], "mk_wrong").get("x")


def test_list_walks_every_page(server):
    client = Client(server["base_url"] + "/api/v1", server["api_key"], workspace=server["workspace"])
    for i in range(23):
        client.upsert(text="note", id=f"list-{i:02d}", metadata={"type": "listed", "parity": "even" if i % 2 == 0 else "odd"})
    ids = [m.id for m in client.list(page_size=5, type="listed")]
    assert len(ids) == 23 and len(set(ids)) == 23
    even = list(client.list(page_size=4, type="listed", metadata={"parity": "even"}))
    assert len(even) == 12 and all(isinstance(m, models.Memory) for m in even)


def test_search(server):
    client = Client(server["base_url"], server["api_key"])
    client.upsert(text="the cat sat on the mat", id="s-a")
    client.upsert(text="quarterly revenue planning", id="s-b")
    res = client.search("revenue planning", limit=2, mode="keyword")
    assert isinstance(res, models.SearchResponse)
    assert res.results and res.results[0].memory.id == "s-b"
    with pytest.raises(memoryd.InvalidRequest):
        client.search("x", mode="nope")


def test_rate_limited_request_is_retried(server, monkeypatch):
    """The limited key's first request (after 5 s without one) is refused
    with 429; the client waits as asked and sends it again."""
    waits = []
    real_sleep = memoryd.client.time.sleep
    monkeypatch.setattr(memoryd.client.time, "sleep", lambda s: (waits.append(s), real_sleep(s)))
    client = Client(server["base_url"], server["limited_api_key"])
    res = client.upsert(text="after a 429", id="limited-1")
    assert res.status == "stored"
    assert waits and 0 < waits[0] <= 2, f"no 429 was retried: {waits}"


def test_rate_limited_without_retries_raises_typed(server):
    proc, info = __import__("conftest").start_server(7)  # a fresh server refuses the first request
    try:
        with pytest.raises(memoryd.RateLimited) as e:
            Client(info["base_url"], info["limited_api_key"], max_retries=0).get("x")
        assert e.value.status == 429 and 0 < e.value.retry_after <= 2
    finally:
        __import__("conftest").stop_server(proc)
