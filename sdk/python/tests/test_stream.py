import signal
import threading

from memoryd import Client, models


# Only guards against a hung stream; nothing asserts on time.
TEST_LIMIT = 120


class GaveUp(Exception):
    """Not an OSError, which the stream would take for a broken connection."""


def collect(client, want, on_first_welcome=None, **opts):
    """Follows the stream until want memory.created events arrived; returns
    their memory ids in order and the number of connections."""
    ids, conns = [], 0
    stream = client.stream(**opts)

    def give_up(*_):
        raise GaveUp(f"gave up after {len(ids)} of {want} events ({TEST_LIMIT} s limit of the test)")
    signal.signal(signal.SIGALRM, give_up)
    signal.alarm(TEST_LIMIT)
    try:
        for ev in stream:
            if isinstance(ev.payload, models.Welcome):
                conns += 1
                if conns == 1 and on_first_welcome:
                    on_first_welcome(ev.id)
            assert not isinstance(ev.payload, models.Restart), f"restart: {ev.data}"
            assert ev.type != "error", ev.data
            if isinstance(ev.payload, models.MemoryCreated):
                ids.append(ev.payload.id)
            if len(ids) == want:
                break
    finally:
        signal.alarm(0)
        stream.close()
    return ids, conns


def check_exact(got, n):
    want = [f"m{i:03d}" for i in range(n)]
    dups = len(got) - len(set(got))
    assert dups == 0, f"{dups} duplicates"
    assert got == want, f"received {len(got)}, written {n}, first difference at " \
        f"{next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), n))}"


def test_stream_resumes_across_cuts(server):
    """The cut proxy aborts every connection after its 7th event with an id,
    mid-burst; the client resumes with every event written, in order, none
    twice: live (writes start once the stream is open) and replayed (a
    second stream resuming from the first one's welcome)."""
    n = 150
    reader = Client(server["cut_base_url"], server["api_key"])
    writer = Client(server["base_url"], server["api_key"])
    first = []
    errors = []

    def write(pos):
        first.append(pos)

        def run():
            try:
                for i in range(n):
                    writer.upsert(text="note", id=f"m{i:03d}")
            except Exception as e:  # reported by the test below
                errors.append(e)
        threading.Thread(target=run, daemon=True).start()

    live, conns = collect(reader, n, on_first_welcome=write, events=["memory.created"])
    assert not errors, errors
    check_exact(live, n)
    assert conns >= 2, "the proxy never cut"
    print(f"live: written {n}, received {len(live)} in order, 0 duplicates, over {conns} connections")

    replay, conns = collect(reader, n, last_event_id=first[0])
    check_exact(replay, n)
    assert conns >= n // 7
    print(f"replay: written {n}, received {len(replay)} in order, 0 duplicates, over {conns} connections")
