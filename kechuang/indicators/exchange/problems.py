"""What went wrong in an imported file, and where: ``file:sheet:row:column: message``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from kechuang.core.errors import InvalidInput

NO_PLACE = "-"


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """One problem, placed as a spreadsheet shows it (row 7, column G).

    ``sheet`` is "-" for CSV and JSON; ``row`` and ``column`` are None for a
    problem with the whole file or sheet. In JSON, ``row`` is the 1-based
    position in ``dataValues`` and ``column`` the key.
    """

    file: str
    sheet: str | None
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        parts = [
            self.file,
            self.sheet or NO_PLACE,
            NO_PLACE if self.row is None else str(self.row),
            self.column or NO_PLACE,
        ]
        return f"{':'.join(parts)}: {self.message}"


class ImportFailed(InvalidInput):
    """The file has problems; nothing was written. ``problems`` lists every one."""

    code = "import_failed"
    default_message = _("文件有问题，未导入任何数据。")

    def __init__(self, problems: Iterable[ImportProblem]) -> None:
        self.problems = list(problems)
        super().__init__(
            _("文件有 %(n)d 处问题，未导入任何数据。") % {"n": len(self.problems)},
            fields={"file": [str(p) for p in self.problems[:50]]},
        )


def row_ranges(rows: Iterable[int]) -> str:
    """第 6、8–10 行 style, for messages naming many rows."""
    ordered = sorted(set(rows))
    spans: list[str] = []
    start = previous = None
    for row in [*ordered, None]:
        if row is not None and previous is not None and row == previous + 1:
            previous = row
            continue
        if start is not None:
            spans.append(str(start) if start == previous else f"{start}–{previous}")
        start = previous = row
    if len(spans) > 12:
        spans = [*spans[:12], "…"]
    return "、".join(spans)
