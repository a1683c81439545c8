from __future__ import annotations

import datetime
from typing import Self

from django.db import models
from django.utils import timezone

from kechuang.core.scoping import ScopedQuerySet, subtree_q
from kechuang.regions.choices import Level, UnitKind


class OrgUnitQuerySet(ScopedQuerySet):
    owner_path = "path"

    def current(self, on: datetime.date | None = None) -> Self:
        """Units in force on a date (today by default): not yet retired."""
        on = on or timezone.localdate()
        return self.filter(models.Q(valid_to__isnull=True) | models.Q(valid_to__gt=on))

    def descendants_of(self, unit: models.Model, *, include_self: bool = False) -> Self:
        qs = self.filter(subtree_q("path", unit.path))  # type: ignore[attr-defined]
        return qs if include_self else qs.exclude(pk=unit.pk)

    def children_of(self, unit: models.Model) -> Self:
        return self.filter(parent=unit)

    def administrative_counties(self) -> Self:
        return self.filter(level=Level.COUNTY, kind=UnitKind.ADMINISTRATIVE)


class DepartmentQuerySet(ScopedQuerySet):
    owner_path = "org_unit__path"
