from __future__ import annotations

from typing import Any, Self

from kechuang.core.scoping import ScopedQuerySet, subtree_q


class PlanQuerySet(ScopedQuerySet):
    owner_path = "org_unit__path"


class TaskQuerySet(ScopedQuerySet):
    """Tasks of plans in the user's subtree, and tasks assigned to a unit in it.

    A county's department sees the city plan's tasks it was given, not the
    rest of the city plan (the plan's other tasks belong to others).
    """

    owner_path = "plan__org_unit__path"

    def visible_to(self, user: Any) -> Self:
        if getattr(user, "is_superuser", False):
            return self
        path = getattr(user, "scope_path", None)
        if not path:
            return self.none()
        return self.filter(
            subtree_q("plan__org_unit__path", path)
            | subtree_q("assignments__org_unit__path", path)
            | subtree_q("assignments__department__org_unit__path", path)
        ).distinct()
