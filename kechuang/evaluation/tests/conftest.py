"""Shipped catalogue and methodologies, with demo approved values for the cast's counties."""

from __future__ import annotations

from typing import Any

import pytest

from kechuang.demo.indicator_data import load_indicator_demo
from kechuang.evaluation.services import methodologies


@pytest.fixture
def shipped(cast: Any) -> dict[str, Any]:
    """甘肃省's counties in the cast (泾川县, 崇信县, 城关区) with ten years of demo data."""
    load_indicator_demo(province="62")
    return {m.code: m for m in methodologies.load_methodologies(actor=None)}
