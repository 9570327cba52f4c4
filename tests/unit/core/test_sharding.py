"""Every collection is placed for sharding, and docs/scaling.md says how (issue 14, item 5)."""

from __future__ import annotations

from pathlib import Path

from core.sharding import SHARD_KEYS, UNSHARDED
from tests.query_audit import declared_indexes

SCALING = Path(__file__).parents[3] / "docs" / "scaling.md"


def test_every_indexed_collection_is_sharded_or_unsharded_with_a_reason() -> None:
    placed = set(SHARD_KEYS) | set(UNSHARDED)

    assert set(declared_indexes()) - placed == set()
    assert not set(SHARD_KEYS) & set(UNSHARDED)
    assert all(len(reason) > 20 for reason in UNSHARDED.values())


def test_a_sharded_collection_s_unique_indexes_start_with_its_shard_key() -> None:
    indexes = declared_indexes()
    for collection, key in SHARD_KEYS.items():
        for index in indexes[collection]:
            if index.unique and index.name != "_id_":
                assert tuple(f for f, _ in index.keys[: len(key)]) == key, index


def test_scaling_doc_names_each_collection_with_its_shard_key() -> None:
    text = SCALING.read_text()

    for collection, key in SHARD_KEYS.items():
        assert f"| `{collection}` | `{{{', '.join(key)}}}` |" in text
    for collection in UNSHARDED:
        assert f"`{collection}`" in text


def test_the_readme_links_the_scaling_doc_from_its_production_section() -> None:
    readme = (SCALING.parents[1] / "README.md").read_text()
    production = readme.split("## Running in production", 1)[1].split("\n## ", 1)[0]

    assert "docs/scaling.md" in production
