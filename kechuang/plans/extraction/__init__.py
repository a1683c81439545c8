"""Reading a plan's plain text into its task-decomposition table: pure Python, no Django.

Deterministic rules of Chinese official-document structure (numbering levels,
role labels, quantity phrases); no model, nothing downloaded.

    extract(text) -> dict        the plan-gold schema: document, tasks, targets, subsidies
    score_document(gold, pred)   the plan-gold scoring of one prediction
"""

from .extract import extract
from .files import read_json, read_text, to_json
from .scoring import format_table, score_document, summarise

__all__ = [
    "extract",
    "format_table",
    "read_json",
    "read_text",
    "score_document",
    "summarise",
    "to_json",
]
