"""docs/architecture.md stays true to the code: every collection has a row naming an owner that
names it, and every layer contract of setup.cfg is described."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

from core.sharding import SHARD_KEYS, UNSHARDED

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"


def section(heading: str) -> str:
    text = DOC.read_text()
    start = text.index(f"\n{heading}\n")
    following = re.search(r"\n#{2,3} ", text[start + len(heading) + 2 :])
    end = start + len(heading) + 2 + following.start() if following else len(text)
    return text[start:end]


def owner_rows() -> dict[str, str]:
    """Collection name -> owner module path, from the table of "Collections and owners"."""
    owners = {}
    for line in section("## Collections and owners").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        (owner,) = re.findall(r"`([^`]+\.py)`", cells[1])
        for name in re.findall(r"`([a-z_]+)`", cells[0]):
            owners[name] = owner
    return owners


def test_every_collection_has_an_owner_row() -> None:
    assert sorted(owner_rows()) == sorted({*SHARD_KEYS, *UNSHARDED})


def test_each_owner_row_names_a_module_that_names_its_collection() -> None:
    wrong = [
        f"{name}: {owner}"
        for name, owner in owner_rows().items()
        if not (ROOT / owner).is_file() or f'"{name}"' not in (ROOT / owner).read_text()
    ]
    assert wrong == [], "docs/architecture.md names the wrong owner (or a moved module)"


def test_every_layer_contract_is_described() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    contracts = [s.split(":")[-1] for s in config.sections() if s.startswith("importlinter:")]
    described = section("### Layer contracts")
    assert len(contracts) >= 5
    assert [c for c in contracts if f"`{c}`" not in described] == []
