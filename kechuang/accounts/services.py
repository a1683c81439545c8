"""Users: creating, changing, deactivating, passwords, and throttled login."""

from __future__ import annotations

import datetime
import math
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from kechuang.accounts.errors import InvalidCredentials, LoginThrottled
from kechuang.accounts.models import FailedLogin, User
from kechuang.audit import services as audit
from kechuang.core.authorization import Action, Role, require
from kechuang.core.errors import Conflict, Forbidden, InvalidInput

USER_FIELDS = ("username", "display_name", "phone", "org_unit", "role", "is_active", "is_superuser")
# An address may try a few usernames (a shared office NAT), not a dictionary of them.
IP_FAILURE_FACTOR = 4


# ---------------------------------------------------------------- login


def client_ip(request: HttpRequest | None) -> str | None:
    """The caller's address; behind our own reverse proxy, the one the proxy saw.

    Without this every attempt would come from the proxy, and twenty failures by
    anyone would lock the whole bureau out.
    """
    if request is None:
        return None
    if settings.TRUSTED_PROXY_COUNT:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [h for h in hops if h]
        if len(hops) >= settings.TRUSTED_PROXY_COUNT:
            return hops[-settings.TRUSTED_PROXY_COUNT]
    return request.META.get("REMOTE_ADDR") or None


def login_delay(username: str, ip: str | None, *, now: datetime.datetime | None = None) -> int:
    """Seconds the caller must wait before another attempt (0: may try now)."""
    now = now or timezone.now()
    window_start = now - datetime.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    limit = settings.LOGIN_MAX_FAILURES
    checks = [(FailedLogin.objects.filter(username=username.lower()), limit)]
    if ip:
        checks.append((FailedLogin.objects.filter(ip_address=ip), limit * IP_FAILURE_FACTOR))
    wait = 0
    for queryset, threshold in checks:
        recent = list(
            queryset.filter(time__gte=window_start)
            .order_by("-time")
            .values_list("time", flat=True)[:threshold]
        )
        if len(recent) >= threshold:
            until = recent[0] + datetime.timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
            wait = max(wait, math.ceil((until - now).total_seconds()))
    return max(wait, 0)


def log_in(request: HttpRequest | None, username: str, password: str) -> User:
    """Check credentials, delaying further attempts after repeated failures.

    The delay applies whether or not the password is right, so a throttled
    attacker learns nothing from trying.
    """
    username = (username or "").strip()
    ip = client_ip(request)
    wait = login_delay(username, ip)
    if wait:
        minutes = max(1, math.ceil(wait / 60))
        raise LoginThrottled(
            _("登录失败次数过多，请 %(m)d 分钟后再试。") % {"m": minutes},
            fields={"retry_after": wait},
        )
    user = authenticate(request, username=username, password=password)
    if user is None:
        FailedLogin.objects.create(username=username.lower(), ip_address=ip)
        # Rows older than the window decide nothing; dropping them bounds the table.
        window = datetime.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
        FailedLogin.objects.filter(time__lt=timezone.now() - window).delete()
        raise InvalidCredentials()
    FailedLogin.objects.filter(username=username.lower()).delete()
    with transaction.atomic():
        audit.record(user, "accounts.user.login", user, data={"ip": ip})
    return user  # type: ignore[return-value]


# ---------------------------------------------------------------- users


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise InvalidInput(_("密码不符合要求。"), fields={"password": error.messages}) from None


@transaction.atomic
def create_user(
    *,
    actor: Any,
    username: str,
    password: str,
    org_unit: Any,
    role: str = Role.CLERK,
    display_name: str = "",
    phone: str = "",
    is_superuser: bool = False,
    is_demo: bool = False,
) -> User:
    """Add a user bound to ``org_unit`` with ``role``.

    ``actor`` None is the system itself (the `kechuang user create` command run
    by the server's operator), the only way besides a superuser to create a
    superuser.
    """
    if org_unit is None and not is_superuser:
        # A user without a unit sees nothing and no administrator could manage them.
        raise InvalidInput(_("请指定所属单位。"), fields={"org_unit": [_("必填")]})
    if actor is not None:
        require(actor, Action.MANAGE_USERS, org_unit)
        if is_superuser and not actor.is_superuser:
            raise Forbidden(_("只有系统运维人员可以创建超级管理员。"))
    username = (username or "").strip()
    if not username:
        raise InvalidInput(_("用户名不能为空。"), fields={"username": [_("必填")]})
    if role not in Role.values:
        raise InvalidInput(
            _("未知角色：%(role)s") % {"role": role}, fields={"role": [_("未知角色")]}
        )
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(
            _("用户名 %(u)s 已存在。") % {"u": username}, fields={"username": [_("用户名已存在")]}
        )
    user = User(
        username=username,
        org_unit=org_unit,
        role=role,
        display_name=display_name,
        phone=phone,
        is_superuser=is_superuser,
        is_staff=is_superuser,
        is_demo=is_demo,
    )
    _check_password(password, user)
    user.set_password(password)
    user.save()
    audit.record(actor, "accounts.user.create", user, after=audit.snapshot(user, USER_FIELDS))
    return user


@transaction.atomic
def update_user(
    user: User,
    *,
    actor: Any,
    org_unit: Any = None,
    role: str | None = None,
    display_name: str | None = None,
    phone: str | None = None,
    is_active: bool | None = None,
) -> User:
    """Change a user's unit, role, name or status; moving needs rights over both units."""
    user = User.objects.select_for_update(of=("self",)).select_related("org_unit").get(pk=user.pk)
    require(actor, Action.MANAGE_USERS, user.org_unit, org_unit)
    if actor is not None and user.is_superuser and not actor.is_superuser:
        raise Forbidden(_("只有系统运维人员可以修改超级管理员。"))
    if (
        actor is not None
        and user.pk == actor.pk
        and (
            (org_unit is not None and org_unit.pk != user.org_unit_id)
            or (role is not None and role != user.role)
            or is_active is False
        )
    ):
        raise Forbidden(_("不能修改自己的单位、角色或停用自己，请联系其他管理员。"))
    if role is not None and role not in Role.values:
        raise InvalidInput(
            _("未知角色：%(role)s") % {"role": role}, fields={"role": [_("未知角色")]}
        )
    before = audit.snapshot(user, USER_FIELDS)
    for name, value in (
        ("org_unit", org_unit),
        ("role", role),
        ("display_name", display_name),
        ("phone", phone),
        ("is_active", is_active),
    ):
        if value is not None:
            setattr(user, name, value)
    user.save()
    after = audit.snapshot(user, USER_FIELDS)
    if after != before:
        audit.record(actor, "accounts.user.update", user, **audit.changes(before, after))
    return user


@transaction.atomic
def deactivate_user(user: User, *, actor: Any) -> User:
    """Stop a user from logging in; their name stays on everything they did."""
    return update_user(user, actor=actor, is_active=False)


@transaction.atomic
def set_password(user: User, *, actor: Any, password: str, old_password: str | None = None) -> User:
    """Set a password: one's own (with the old one) or, as an administrator, another's."""
    if actor is not None and actor.pk == user.pk:
        if old_password is None or not user.check_password(old_password):
            raise InvalidInput(_("原密码不正确。"), fields={"old_password": [_("原密码不正确")]})
    elif actor is not None:
        require(actor, Action.MANAGE_USERS, user.org_unit)
        if user.is_superuser and not actor.is_superuser:
            raise Forbidden(_("只有系统运维人员可以修改超级管理员。"))
    _check_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    # The password itself never reaches the log.
    audit.record(actor, "accounts.user.set_password", user)
    return user


@transaction.atomic
def issue_token(user: User, *, actor: Any) -> str:
    """The user's API token, created on first use (the creation is logged)."""
    token, created = Token.objects.get_or_create(user=user)
    if created:
        audit.record(actor, "accounts.token.create", user)
    return token.key
