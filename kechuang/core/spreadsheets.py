"""Text that goes into a spreadsheet a person will open (CSV or Excel exports)."""

from __future__ import annotations

from typing import Any

# A spreadsheet treats text starting with these as a formula (CSV/formula injection, OWASP):
# a name typed by a user such as =HYPERLINK(…) would run when an official opens the file.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(text: str) -> str:
    """Text a spreadsheet shows as text, never runs: a leading ' before = + - @ tab CR."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def restore_formula_text(text: str) -> str:
    """Undo ``neutralise_formula`` on import, so an export imports back unchanged."""
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_TRIGGERS:
        return text[1:]
    return text


def safe_cell(value: Any) -> Any:
    """``neutralise_formula`` for text; other values as they are."""
    return neutralise_formula(value) if isinstance(value, str) else value
