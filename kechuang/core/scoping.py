"""Row scoping: what a user may see is their org unit's subtree, never a sibling's.

One rule, one mechanism, three guards (docs/adr/0002-scoping.md):
1. reads go through ``Model.objects.visible_to(user)``;
2. get-by-id goes through ``access_object``: missing and out-of-scope rows raise
   the same ``NotFound``;
3. services check writes against the old *and* the new owning unit.

The subtree test is a prefix match on the org unit's materialized path
(docs/adr/0001-org-unit-tree.md), written by ``subtree_q`` so that it uses the
path index on both databases (see there).
"""

from __future__ import annotations

from typing import Any, Protocol, Self, TypeVar

from django.db import connection, models
from django.db.models import Q

from kechuang.core.errors import NotFound


class ScopedUser(Protocol):
    is_superuser: bool
    is_authenticated: bool

    @property
    def scope_path(self) -> str | None: ...


# Sorts after every character a path step may hold (0-9, A-Z) in byte order.
PATH_CEILING = "~"


def subtree_q(lookup: str, path: str) -> Q:
    """Rows whose ``lookup`` (a tree path) lies in the subtree rooted at ``path``.

    PostgreSQL serves ``LIKE 'p%'`` from the ``_like`` index Django creates.
    SQLite cannot (its LIKE is case-insensitive, so it scans the index), but it
    compares text byte by byte, so the equivalent range ``p <= x < p~`` is an
    index range scan there. A range on PostgreSQL would depend on the column's
    collation, hence one form per engine; the test suite checks both give the
    same rows.
    """
    if connection.vendor == "sqlite":
        return Q(**{f"{lookup}__gte": path, f"{lookup}__lt": path + PATH_CEILING})
    return Q(**{f"{lookup}__startswith": path})


class ScopedQuerySet(models.QuerySet):
    """Rows owned by an org unit, narrowed to what a user may see."""

    #: lookup from the model to the owning unit's tree path
    owner_path = "org_unit__path"

    def visible_to(self, user: Any) -> Self:
        """The user's own unit and every unit below it; nothing for anyone else."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.is_superuser:
            return self
        path = user.scope_path
        if not path:
            return self.none()
        return self.filter(subtree_q(self.owner_path, path))


M = TypeVar("M", bound=models.Model)


def access_object(queryset: models.QuerySet[M], user: Any, pk: Any) -> M:
    """Fetch one row the user may see; "missing" and "not yours" are the same error."""
    scoped = queryset.visible_to(user)  # type: ignore[attr-defined]
    try:
        return scoped.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def path_within(path: str | None, scope: str | None) -> bool:
    """Whether a tree path lies inside (or is) the scope path."""
    return bool(path) and bool(scope) and path.startswith(scope)  # type: ignore[union-attr]
