from __future__ import annotations

from kechuang.core.scoping import ScopedQuerySet


class LogEntryQuerySet(ScopedQuerySet):
    owner_path = "org_unit__path"
