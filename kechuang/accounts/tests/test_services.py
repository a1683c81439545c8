"""accounts.services: who may create, change and reset whom, and what the log keeps."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from kechuang.accounts import services
from kechuang.accounts.models import User
from kechuang.audit.models import LogEntry
from kechuang.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from kechuang.core.middleware import request_context
from kechuang.regions.services import ensure_nation

CAST_PASSWORD = "Test-Passw0rd!"  # conftest.PASSWORD
STRONG = "Strong-Passw0rd!"


def ref(unit):
    """How the audit log records a foreign key: id and name at that moment."""
    return {"id": unit.pk, "repr": str(unit)}


def state() -> tuple[list[tuple[Any, ...]], int]:
    """Every user's columns and the size of the log: a denied write changes neither."""
    users = list(
        User.objects.order_by("pk").values_list(
            "pk",
            "username",
            "org_unit_id",
            "role",
            "is_active",
            "is_superuser",
            "password",
            "display_name",
            "phone",
        )
    )
    return users, LogEntry.objects.count()


def new_entries(since: int) -> list[LogEntry]:
    return list(LogEntry.objects.order_by("id")[since:])


def assert_no_secrets(entry: LogEntry, *passwords: str) -> None:
    text = json.dumps([entry.before, entry.after, entry.data], ensure_ascii=False)
    assert "password" not in text
    for password in passwords:
        assert password not in text
    for hashed in User.objects.values_list("password", flat=True):
        assert hashed not in text


def lanzhou_user(cast: Any, role: str = "clerk") -> User:
    """A user of 兰州市's 城关区, which the cast does not staff."""
    return services.create_user(
        actor=None,
        username=f"chengguanqu_{role}",
        password=CAST_PASSWORD,
        org_unit=cast.unit("chengguan_district"),
        role=role,
    )


def national_admin() -> User:
    """An administrator bound to 全国 who is not a superuser."""
    return services.create_user(
        actor=None,
        username="nation_admin",
        password=CAST_PASSWORD,
        org_unit=ensure_nation(),
        role="admin",
    )


# ---------------------------------------------------------------- create_user


def test_system_creates_user_and_logs_it_without_the_password(cast):
    count = LogEntry.objects.count()
    user = services.create_user(
        actor=None,
        username="newclerk",
        password=STRONG,
        org_unit=cast.unit("jingchuan"),
        role="clerk",
        display_name="新填报员",
        phone="0933-1234567",
    )
    user.refresh_from_db()
    assert user.org_unit == cast.unit("jingchuan")
    assert user.role == "clerk"
    assert user.check_password(STRONG)
    assert not user.is_superuser
    assert not user.is_staff
    [entry] = new_entries(count)
    assert entry.action == "accounts.user.create"
    assert entry.actor is None
    assert entry.actor_name == "系统"
    assert entry.org_unit == cast.unit("jingchuan")
    assert entry.object_id == str(user.pk)
    assert entry.before is None
    assert entry.after == {
        "username": "newclerk",
        "display_name": "新填报员",
        "phone": "0933-1234567",
        "org_unit": ref(cast.unit("jingchuan")),
        "role": "clerk",
        "is_active": True,
        "is_superuser": False,
    }
    assert_no_secrets(entry, STRONG)


@pytest.mark.parametrize(
    "password",
    [
        "password123",  # a common password, two classes
        "abcdefghij",  # one class
        "1234567890",  # digits only
        "kechuang2026",  # lower case and digits: two classes of the three needed
        "KECHUANG2026",  # upper case and digits: two classes
        "Sh0rt!pw",  # four classes but shorter than 10
        "Newclerk2026!",  # too close to the username
    ],
)
def test_weak_passwords_are_rejected_with_a_password_field(cast, password):
    before = state()
    with pytest.raises(InvalidInput) as caught:
        services.create_user(
            actor=None, username="newclerk", password=password, org_unit=cast.unit("jingchuan")
        )
    messages = caught.value.fields["password"]
    assert messages
    assert all(isinstance(m, str) and m for m in messages)
    assert state() == before


def test_two_character_classes_are_named_in_the_message(cast):
    with pytest.raises(InvalidInput) as caught:
        services.create_user(
            actor=None,
            username="newclerk",
            password="kechuangxyz2026",
            org_unit=cast.unit("jingchuan"),
        )
    assert any("3 类" in m for m in caught.value.fields["password"])


@pytest.mark.parametrize("password", ["Kechuang2026", "Kechuang@2026", "jc-clerk-2026"])
def test_three_character_classes_and_ten_characters_are_enough(cast, password):
    user = services.create_user(
        actor=None, username="newclerk", password=password, org_unit=cast.unit("jingchuan")
    )
    assert user.check_password(password)


@pytest.mark.parametrize("username", ["jingchuan_clerk", "Jingchuan_Clerk", " JINGCHUAN_CLERK "])
def test_duplicate_username_is_a_conflict_whatever_the_case(cast, username):
    before = state()
    with pytest.raises(Conflict) as caught:
        services.create_user(
            actor=None, username=username, password=STRONG, org_unit=cast.unit("chongxin")
        )
    assert "username" in caught.value.fields
    assert state() == before


def test_blank_username_and_unknown_role_are_invalid(cast):
    before = state()
    with pytest.raises(InvalidInput) as blank:
        services.create_user(
            actor=None, username="   ", password=STRONG, org_unit=cast.unit("jingchuan")
        )
    assert "username" in blank.value.fields
    with pytest.raises(InvalidInput) as role:
        services.create_user(
            actor=None,
            username="newclerk",
            password=STRONG,
            org_unit=cast.unit("jingchuan"),
            role="mayor",
        )
    assert "role" in role.value.fields
    assert state() == before


@pytest.mark.parametrize("org_unit", [None, "absent"])
def test_the_api_refuses_a_user_without_a_unit(cast, org_unit):
    # create_user() itself does not refuse org_unit=None, so the serializer must.
    client = Client()
    client.force_login(cast.user("pingliang", "admin"))
    payload = {"username": "orphan", "password": STRONG, "role": "admin"}
    if org_unit is None:
        payload["org_unit"] = None
    before = state()
    response = client.post("/api/v1/accounts/users/", payload, content_type="application/json")
    assert response.status_code == 400
    assert "org_unit" in response.json()
    assert state() == before


@pytest.mark.parametrize("target", ["pingliang", "jingchuan", "chongxin", "chengguan_town"])
def test_city_admin_creates_users_anywhere_in_the_city(cast, target):
    admin = cast.user("pingliang", "admin")
    count = LogEntry.objects.count()
    user = services.create_user(
        actor=admin, username="newclerk", password=STRONG, org_unit=cast.unit(target)
    )
    assert user.org_unit == cast.unit(target)
    [entry] = new_entries(count)
    assert entry.action == "accounts.user.create"
    assert entry.actor == admin
    assert entry.actor_name == "pingliang_admin（pingliang admin）"
    assert entry.org_unit == cast.unit(target)
    assert_no_secrets(entry, STRONG)


@pytest.mark.parametrize(
    ("actor_unit", "target"),
    [
        ("pingliang", "lanzhou"),
        ("pingliang", "chengguan_district"),
        ("pingliang", "lanzhou_new_area"),
        ("pingliang", "gansu"),  # upwards is outside too
        ("jingchuan", "chongxin"),  # a sibling county
        ("jingchuan", "pingliang"),
        ("chengguan_town", "jingchuan"),
    ],
)
def test_admin_cannot_create_users_outside_the_subtree(cast, actor_unit, target):
    before = state()
    with pytest.raises(NotFound):
        services.create_user(
            actor=cast.user(actor_unit, "admin"),
            username="newclerk",
            password=STRONG,
            org_unit=cast.unit(target),
        )
    assert state() == before


@pytest.mark.parametrize("role", ["clerk", "reviewer", "leader"])
def test_only_admins_create_users(cast, role):
    before = state()
    with pytest.raises(Forbidden):
        services.create_user(
            actor=cast.user("pingliang", role),
            username="newclerk",
            password=STRONG,
            org_unit=cast.unit("jingchuan"),
        )
    assert state() == before


def test_deactivated_admin_creates_nobody(cast):
    admin = cast.user("pingliang", "admin")
    User.objects.filter(pk=admin.pk).update(is_active=False)
    admin.refresh_from_db()
    before = state()
    with pytest.raises(Forbidden):
        services.create_user(
            actor=admin, username="newclerk", password=STRONG, org_unit=cast.unit("jingchuan")
        )
    assert state() == before


def test_admin_cannot_create_a_superuser(cast):
    before = state()
    with pytest.raises(Forbidden):
        services.create_user(
            actor=cast.user("gansu", "admin"),
            username="root2",
            password=STRONG,
            org_unit=cast.unit("gansu"),
            role="admin",
            is_superuser=True,
        )
    assert state() == before


def test_national_admin_cannot_create_a_superuser_either(cast):
    admin = national_admin()
    before = state()
    with pytest.raises(Forbidden):
        services.create_user(
            actor=admin,
            username="root2",
            password=STRONG,
            org_unit=ensure_nation(),
            role="admin",
            is_superuser=True,
        )
    assert state() == before


def test_superuser_and_system_create_superusers(cast, superuser):
    assert superuser.is_superuser
    assert superuser.is_staff
    assert superuser.org_unit == ensure_nation()
    count = LogEntry.objects.count()
    second = services.create_user(
        actor=superuser,
        username="operator2",
        password=STRONG,
        org_unit=ensure_nation(),
        role="admin",
        is_superuser=True,
    )
    assert second.is_superuser
    [entry] = new_entries(count)
    assert entry.actor == superuser
    assert entry.after["is_superuser"] is True
    assert_no_secrets(entry, STRONG)


# ---------------------------------------------------------------- update_user


def test_city_admin_moves_a_user_between_its_counties(cast):
    admin = cast.user("pingliang", "admin")
    clerk = cast.user("jingchuan", "clerk")
    count = LogEntry.objects.count()
    services.update_user(clerk, actor=admin, org_unit=cast.unit("chongxin"))
    clerk.refresh_from_db()
    assert clerk.org_unit == cast.unit("chongxin")
    [entry] = new_entries(count)
    assert entry.action == "accounts.user.update"
    assert entry.actor == admin
    # Only what changed, before and after.
    assert entry.before == {"org_unit": ref(cast.unit("jingchuan"))}
    assert entry.after == {"org_unit": ref(cast.unit("chongxin"))}
    assert_no_secrets(entry)


def test_update_logs_every_changed_field_and_only_those(cast):
    admin = cast.user("jingchuan", "admin")
    clerk = cast.user("chengguan_town", "clerk")
    count = LogEntry.objects.count()
    services.update_user(
        clerk, actor=admin, role="reviewer", display_name="新名字", phone="", is_active=True
    )
    [entry] = new_entries(count)
    assert entry.before == {"role": "clerk", "display_name": "chengguan_town clerk"}
    assert entry.after == {"role": "reviewer", "display_name": "新名字"}


def test_an_update_that_changes_nothing_is_not_logged(cast):
    admin = cast.user("jingchuan", "admin")
    clerk = cast.user("jingchuan", "clerk")
    before = state()
    services.update_user(
        clerk, actor=admin, org_unit=cast.unit("jingchuan"), role="clerk", is_active=True
    )
    assert state() == before


def test_admin_cannot_push_a_user_out_of_the_subtree(cast):
    admin = cast.user("pingliang", "admin")
    clerk = cast.user("jingchuan", "clerk")
    before = state()
    with pytest.raises(NotFound):
        services.update_user(clerk, actor=admin, org_unit=cast.unit("lanzhou"))
    with pytest.raises(NotFound):
        services.update_user(clerk, actor=admin, org_unit=cast.unit("gansu"))
    with pytest.raises(NotFound):
        services.update_user(
            clerk, actor=cast.user("jingchuan", "admin"), org_unit=cast.unit("chongxin")
        )
    assert state() == before


def test_admin_cannot_pull_a_user_into_the_subtree(cast):
    stranger = lanzhou_user(cast)
    before = state()
    with pytest.raises(NotFound):
        services.update_user(
            stranger, actor=cast.user("pingliang", "admin"), org_unit=cast.unit("jingchuan")
        )
    with pytest.raises(NotFound):
        services.update_user(stranger, actor=cast.user("pingliang", "admin"), display_name="x")
    assert state() == before


def test_the_current_unit_is_read_from_the_database_not_the_caller(cast):
    # A stale instance claiming 泾川县 must not let a 泾川县 admin move a 崇信县 user.
    clerk = cast.user("chongxin", "clerk")
    clerk.org_unit = cast.unit("jingchuan")
    before = state()
    with pytest.raises(NotFound):
        services.update_user(
            clerk, actor=cast.user("jingchuan", "admin"), org_unit=cast.unit("chengguan_town")
        )
    assert state() == before


@pytest.mark.parametrize(
    "change",
    [
        {"role": "clerk"},
        {"org_unit": "chengguan_town"},
        {"org_unit": "jingchuan"},
        {"is_active": False},
    ],
)
def test_admin_cannot_change_own_role_unit_or_status(cast, change):
    admin = cast.user("pingliang", "admin")
    kwargs = dict(change)
    if "org_unit" in kwargs:
        kwargs["org_unit"] = cast.unit(kwargs["org_unit"])
    before = state()
    with pytest.raises(Forbidden):
        services.update_user(admin, actor=admin, **kwargs)
    with pytest.raises(Forbidden):
        services.deactivate_user(admin, actor=admin)
    assert state() == before


def test_admin_may_change_own_name_and_phone(cast):
    admin = cast.user("pingliang", "admin")
    services.update_user(
        admin,
        actor=admin,
        display_name="平凉市管理员",
        phone="0933-0000000",
        role="admin",
        org_unit=cast.unit("pingliang"),
        is_active=True,
    )
    admin.refresh_from_db()
    assert admin.display_name == "平凉市管理员"
    assert admin.role == "admin"


@pytest.mark.parametrize("role", ["clerk", "reviewer", "leader"])
def test_only_admins_update_users(cast, role):
    before = state()
    with pytest.raises(Forbidden):
        services.update_user(
            cast.user("chengguan_town", "clerk"),
            actor=cast.user("jingchuan", role),
            display_name="改名",
        )
    assert state() == before


def test_unknown_role_on_update_is_invalid(cast):
    before = state()
    with pytest.raises(InvalidInput) as caught:
        services.update_user(
            cast.user("jingchuan", "clerk"), actor=cast.user("jingchuan", "admin"), role="mayor"
        )
    assert "role" in caught.value.fields
    assert state() == before


def test_a_non_superuser_cannot_modify_a_superuser(cast, superuser):
    before = state()
    # A provincial admin does not even see the operator, bound to 全国.
    with pytest.raises(NotFound):
        services.update_user(superuser, actor=cast.user("gansu", "admin"), display_name="x")
    assert state() == before
    # A national admin sees them but may not touch them.
    admin = national_admin()
    before = state()
    with pytest.raises(Forbidden):
        services.update_user(superuser, actor=admin, display_name="x")
    with pytest.raises(Forbidden):
        services.deactivate_user(superuser, actor=admin)
    with pytest.raises(Forbidden):
        services.set_password(superuser, actor=admin, password=STRONG)
    assert state() == before


def test_superuser_modifies_anyone(cast, superuser):
    other = services.create_user(
        actor=None,
        username="operator2",
        password=STRONG,
        org_unit=ensure_nation(),
        role="admin",
        is_superuser=True,
    )
    services.update_user(other, actor=superuser, phone="110")
    services.update_user(
        cast.user("jingchuan", "clerk"), actor=superuser, org_unit=cast.unit("chengguan_district")
    )
    other.refresh_from_db()
    assert other.phone == "110"
    moved = User.objects.get(username="jingchuan_clerk")
    assert moved.org_unit == cast.unit("chengguan_district")


def test_deactivated_user_cannot_log_in(cast):
    admin = cast.user("jingchuan", "admin")
    clerk = cast.user("chengguan_town", "clerk")
    count = LogEntry.objects.count()
    services.deactivate_user(clerk, actor=admin)
    clerk.refresh_from_db()
    assert clerk.is_active is False
    [entry] = new_entries(count)
    assert (entry.before, entry.after) == ({"is_active": True}, {"is_active": False})
    with pytest.raises(services.InvalidCredentials):
        services.log_in(None, "chengguan_town_clerk", CAST_PASSWORD)


# ---------------------------------------------------------------- set_password


def test_own_password_change_needs_the_old_password(cast):
    clerk = cast.user("jingchuan", "clerk")
    before = state()
    for old in (None, "", "wrong-Passw0rd!"):
        with pytest.raises(InvalidInput) as caught:
            services.set_password(clerk, actor=clerk, password=STRONG, old_password=old)
        assert "old_password" in caught.value.fields
    assert state() == before

    count = LogEntry.objects.count()
    services.set_password(clerk, actor=clerk, password=STRONG, old_password=CAST_PASSWORD)
    clerk.refresh_from_db()
    assert clerk.check_password(STRONG)
    assert not clerk.check_password(CAST_PASSWORD)
    [entry] = new_entries(count)
    assert entry.action == "accounts.user.set_password"
    assert entry.actor == clerk
    assert entry.org_unit == cast.unit("jingchuan")
    assert_no_secrets(entry, STRONG, CAST_PASSWORD)


def test_own_password_change_still_validates_the_new_one(cast):
    clerk = cast.user("jingchuan", "clerk")
    before = state()
    with pytest.raises(InvalidInput) as caught:
        services.set_password(clerk, actor=clerk, password="abcdefghij", old_password=CAST_PASSWORD)
    assert "password" in caught.value.fields
    assert state() == before


@pytest.mark.parametrize(
    ("actor_unit", "target_unit"),
    [("jingchuan", "jingchuan"), ("jingchuan", "chengguan_town"), ("gansu", "chongxin")],
)
def test_admin_resets_passwords_in_the_subtree(cast, actor_unit, target_unit):
    admin = cast.user(actor_unit, "admin")
    target = cast.user(target_unit, "clerk")
    count = LogEntry.objects.count()
    services.set_password(target, actor=admin, password=STRONG)
    target.refresh_from_db()
    assert target.check_password(STRONG)
    [entry] = new_entries(count)
    assert entry.actor == admin
    assert entry.object_id == str(target.pk)
    assert_no_secrets(entry, STRONG, CAST_PASSWORD)


def test_admin_cannot_reset_passwords_outside_the_subtree(cast):
    stranger = lanzhou_user(cast)
    before = state()
    with pytest.raises(NotFound):
        services.set_password(
            cast.user("chongxin", "clerk"), actor=cast.user("jingchuan", "admin"), password=STRONG
        )
    with pytest.raises(NotFound):
        services.set_password(stranger, actor=cast.user("pingliang", "admin"), password=STRONG)
    with pytest.raises(NotFound):
        services.set_password(
            cast.user("pingliang", "clerk"), actor=cast.user("jingchuan", "admin"), password=STRONG
        )
    assert state() == before


@pytest.mark.parametrize("role", ["clerk", "reviewer", "leader"])
def test_non_admins_cannot_reset_others_passwords(cast, role):
    before = state()
    with pytest.raises(Forbidden):
        services.set_password(
            cast.user("chengguan_town", "clerk"),
            actor=cast.user("jingchuan", role),
            password=STRONG,
        )
    assert state() == before


def test_system_resets_any_password(cast, superuser):
    services.set_password(superuser, actor=None, password=STRONG)
    superuser.refresh_from_db()
    assert superuser.check_password(STRONG)
    entry = LogEntry.objects.order_by("-id").first()
    assert entry.actor_name == "系统"
    assert_no_secrets(entry, STRONG)


def test_the_log_never_holds_a_password_or_hash(cast, superuser):
    admin = cast.user("pingliang", "admin")
    clerk = cast.user("jingchuan", "clerk")
    count = LogEntry.objects.count()
    user = services.create_user(
        actor=admin, username="newclerk", password=STRONG, org_unit=cast.unit("chongxin")
    )
    services.update_user(user, actor=admin, role="reviewer", org_unit=cast.unit("jingchuan"))
    services.set_password(user, actor=admin, password="Another-Passw0rd")
    services.set_password(clerk, actor=clerk, password="Mine-Passw0rd!", old_password=CAST_PASSWORD)
    services.deactivate_user(user, actor=superuser)
    services.issue_token(clerk, actor=clerk)
    entries = new_entries(count)
    assert [e.action for e in entries] == [
        "accounts.user.create",
        "accounts.user.update",
        "accounts.user.set_password",
        "accounts.user.set_password",
        "accounts.user.update",
        "accounts.token.create",
    ]
    token = Token.objects.get(user=clerk).key
    for entry in entries:
        assert_no_secrets(entry, STRONG, "Another-Passw0rd", "Mine-Passw0rd!", CAST_PASSWORD)
        assert token not in json.dumps([entry.before, entry.after, entry.data, entry.object_repr])


# ---------------------------------------------------------------- tokens


def test_token_is_issued_once_and_its_creation_logged(cast):
    clerk = cast.user("jingchuan", "clerk")
    count = LogEntry.objects.count()
    with request_context(channel="cli"):
        key = services.issue_token(clerk, actor=None)
    assert len(key) == 40
    assert services.issue_token(clerk, actor=clerk) == key
    [entry] = new_entries(count)
    assert entry.action == "accounts.token.create"
    assert entry.channel == "cli"
    assert entry.org_unit == cast.unit("jingchuan")
