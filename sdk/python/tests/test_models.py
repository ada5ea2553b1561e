import pathlib

from memoryd import models

ROOT = pathlib.Path(__file__).resolve().parents[3]


def test_models_are_the_generated_ones():
    """The package's models are a copy of gen/python/models.py, which
    `make generate` writes from the spec: a stale copy fails here."""
    copy = pathlib.Path(models.__file__).read_text()
    generated = (ROOT / "gen" / "python" / "models.py").read_text()
    assert copy == generated, "run sdk/python/scripts/sync-models.sh"


def test_round_trip_keeps_fields_and_omits_unset_ones():
    d = {"id": "a", "text": "t", "metadata": {"type": "x", "k": 1}, "created_at": "2026-01-01T00:00:00Z",
         "updated_at": "2026-01-01T00:00:00Z", "embedding_model": "hash", "vector_dimensions": 3}
    m = models.Memory.from_dict(d)
    assert m.metadata == {"type": "x", "k": 1} and m.created_by is None
    assert m.to_dict() == d
