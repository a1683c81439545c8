from __future__ import annotations

from typing import Any, Self

from django.db.models import Q

from kechuang.core.scoping import ScopedQuerySet


def workflow_visible(queryset: Any, user: Any, submission_path: str) -> Any:
    """Narrow to rows whose submission has reached the viewer's level.

    A city reviewer sees a county's values once submitted to the city, not its
    drafts; the province sees them once the city approved (docs/adr/0004).
    """
    if not getattr(user, "is_authenticated", False) or user.is_superuser:
        return queryset
    level = user.org_unit.level if user.org_unit_id else -1
    return queryset.filter(Q(**{f"{submission_path}visible_level__lte": level}))


class SubmissionQuerySet(ScopedQuerySet):
    owner_path = "org_unit__path"

    def visible_to(self, user: Any) -> Self:
        return workflow_visible(super().visible_to(user), user, "")


class DataValueQuerySet(ScopedQuerySet):
    owner_path = "org_unit__path"

    def visible_to(self, user: Any) -> Self:
        return workflow_visible(super().visible_to(user), user, "submission__")

    def for_year(self, year: int) -> Self:
        return self.filter(year=year)

    def approved(self) -> Self:
        """Values whose submission passed its last approval."""
        return self.filter(submission__status="approved")


class TargetQuerySet(ScopedQuerySet):
    owner_path = "org_unit__path"
