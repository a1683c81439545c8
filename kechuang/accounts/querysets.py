from __future__ import annotations

from django.contrib.auth.models import UserManager as DjangoUserManager

from kechuang.core.scoping import ScopedQuerySet


class UserQuerySet(ScopedQuerySet):
    owner_path = "org_unit__path"


class UserManager(DjangoUserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    pass
