"""Where the annotated seeds live: the shared folder next to the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from kechuang.core.workspace import shared_folder

SHARED = shared_folder() or Path(__file__).resolve().parents[4] / ".." / "shared"
SEEDS = SHARED / "seeds"
GOLD = SHARED / "data" / "plan-gold"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def seed_pairs() -> list[tuple[str, Path, Path]]:
    """(name, text file, gold file) of every annotated seed."""
    if not GOLD.is_dir() or not SEEDS.is_dir():
        pytest.skip(f"the annotated seeds are not here ({GOLD.resolve()})")
    pairs = []
    for gold in sorted(GOLD.glob("*.json")):
        text = SEEDS / f"{gold.stem}.txt"
        if text.exists():
            pairs.append((gold.stem, text, gold))
    if not pairs:
        pytest.skip("no seed has both its text and its annotation")
    return pairs
