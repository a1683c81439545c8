"""audit.services.record and the log's scoping."""

from __future__ import annotations

import datetime
import decimal
import uuid

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from kechuang.audit import services as audit
from kechuang.audit.models import LogEntry
from kechuang.core.middleware import request_context

PROBE = "test.probe"


def probe_all_units(cast) -> dict[str, LogEntry]:
    """One entry owned by each unit of the cast, written by the system."""
    return {key: audit.record(None, PROBE, unit) for key, unit in cast.units.items()}


def visible_probes(user) -> set[str]:
    return set(
        LogEntry.objects.visible_to(user)
        .filter(action=PROBE)
        .values_list("org_unit__code", flat=True)
    )


# ---------------------------------------------------------------- record()


def test_system_actor_is_named_and_not_linked(cast):
    entry = audit.record(None, PROBE, cast.unit("jingchuan"))
    entry.refresh_from_db()
    assert entry.actor is None
    assert entry.actor_name == "系统"


def test_actor_name_is_username_with_display_name(cast):
    clerk = cast.user("jingchuan", "clerk")
    entry = audit.record(clerk, PROBE, clerk)
    assert entry.actor == clerk
    assert entry.actor_name == "jingchuan_clerk（jingchuan clerk）"
    clerk.display_name = ""
    assert audit.record(clerk, PROBE, clerk).actor_name == "jingchuan_clerk"


def test_actor_name_survives_the_user_being_renamed(cast):
    clerk = cast.user("jingchuan", "clerk")
    entry = audit.record(clerk, PROBE, clerk)
    clerk.display_name = "改名后"
    clerk.save()
    entry.refresh_from_db()
    assert entry.actor_name == "jingchuan_clerk（jingchuan clerk）"


def test_an_unsaved_or_anonymous_actor_counts_as_the_system(cast):
    entry = audit.record(AnonymousUser(), PROBE, cast.unit("jingchuan"))
    assert entry.actor is None
    assert entry.actor_name == "系统"


def test_org_unit_of_a_unit_is_the_unit_itself(cast):
    entry = audit.record(None, PROBE, cast.unit("chengguan_town"))
    assert entry.org_unit == cast.unit("chengguan_town")
    assert entry.object_type == "regions.orgunit"
    assert entry.object_id == str(cast.unit("chengguan_town").pk)
    assert entry.object_repr == "城关镇"


def test_org_unit_of_an_owned_record_is_its_owner(cast):
    user = cast.user("chongxin", "reviewer")
    entry = audit.record(None, PROBE, user)
    assert entry.org_unit == cast.unit("chongxin")
    assert entry.object_type == "accounts.user"
    # Through the app registry: audit sits below regions and does not import it.
    department = apps.get_model("regions", "Department").objects.create(
        org_unit=cast.unit("jingchuan"), name="泾川县科学技术局"
    )
    entry = audit.record(None, PROBE, department)
    assert entry.org_unit == cast.unit("jingchuan")
    assert entry.object_type == "regions.department"


def test_explicit_org_unit_wins_and_no_object_means_no_unit(cast):
    clerk = cast.user("jingchuan", "clerk")
    entry = audit.record(None, PROBE, clerk, org_unit=cast.unit("pingliang"))
    assert entry.org_unit == cast.unit("pingliang")
    bare = audit.record(None, PROBE)
    assert bare.org_unit is None
    assert (bare.object_type, bare.object_id, bare.object_repr) == ("", "", "")


def test_object_repr_is_truncated_to_the_column(cast):
    entry = audit.record(None, PROBE, cast.unit("jingchuan"), object_repr="长" * 400)
    entry.refresh_from_db()
    assert entry.object_repr == "长" * 255


def test_request_id_is_taken_from_the_request_context(cast):
    assert audit.record(None, PROBE, cast.unit("jingchuan")).request_id is None
    request_id = uuid.uuid4()
    with request_context(request_id) as current:
        assert current == request_id
        first = audit.record(None, PROBE, cast.unit("jingchuan"))
        second = audit.record(None, PROBE, cast.unit("chongxin"))
    with request_context():
        third = audit.record(None, PROBE, cast.unit("jingchuan"))
    first.refresh_from_db()
    assert first.request_id == second.request_id == request_id
    assert third.request_id not in (None, request_id)
    # The context is left behind on the way out.
    assert audit.record(None, PROBE, cast.unit("jingchuan")).request_id is None


def test_before_after_and_data_are_stored_as_json(cast):
    moment = timezone.make_aware(datetime.datetime(2026, 3, 1, 9, 30, 15))
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
    entry = audit.record(
        None,
        PROBE,
        cast.unit("jingchuan"),
        before={"amount": decimal.Decimal("1234.50"), "due": datetime.date(2026, 6, 30)},
        after={"amount": decimal.Decimal("99.99"), "at": moment, "unit": cast.unit("jingchuan")},
        data={"ids": (1, 2), "ref": ident, 3: {"nested": datetime.time(8, 0)}},
    )
    entry.refresh_from_db()
    assert entry.before == {"amount": "1234.50", "due": "2026-06-30"}
    assert entry.after == {
        "amount": "99.99",
        "at": "2026-03-01T09:30:15+08:00",
        "unit": cast.unit("jingchuan").pk,
    }
    assert entry.data == {
        "ids": [1, 2],
        "ref": "12345678-1234-5678-1234-567812345678",
        "3": {"nested": "08:00:00"},
    }


def test_no_before_after_means_null_and_data_defaults_to_empty(cast):
    entry = audit.record(None, PROBE, cast.unit("jingchuan"))
    entry.refresh_from_db()
    assert entry.before is None
    assert entry.after is None
    assert entry.data == {}


def test_snapshot_gives_foreign_keys_as_id_and_name(cast):
    clerk = cast.user("jingchuan", "clerk")
    snap = audit.snapshot(clerk, ("username", "org_unit", "role", "is_active", "date_joined"))
    assert snap["org_unit"] == {"id": cast.unit("jingchuan").pk, "repr": "泾川县"}
    assert snap["username"] == "jingchuan_clerk"
    assert snap["is_active"] is True
    assert isinstance(snap["date_joined"], str)
    assert datetime.datetime.fromisoformat(snap["date_joined"]) == clerk.date_joined


def test_changes_keeps_only_changed_keys():
    before = {"name": "泾川县", "code": "620821", "level": 3, "parent": 7}
    after = {"name": "泾川市", "code": "620881", "level": 3, "parent": 7}
    assert audit.changes(before, after) == {
        "before": {"name": "泾川县", "code": "620821"},
        "after": {"name": "泾川市", "code": "620881"},
    }
    assert audit.changes(before, dict(before)) == {"before": {}, "after": {}}
    # A key new in ``after`` shows as changed from nothing.
    assert audit.changes({}, {"phone": "110"}) == {
        "before": {"phone": None},
        "after": {"phone": "110"},
    }


# ---------------------------------------------------------------- visible_to


def test_city_reviewer_sees_its_counties_not_the_other_city(cast):
    probe_all_units(cast)
    seen = visible_probes(cast.user("pingliang", "reviewer"))
    assert seen == {"6208", "620821", "620823", "620821100"}


def test_county_admin_sees_nothing_of_the_sibling_county(cast):
    probe_all_units(cast)
    admin = cast.user("jingchuan", "admin")
    assert visible_probes(admin) == {"620821", "620821100"}
    # Not just the probes: nothing at all of 崇信县, including its users' creation.
    chongxin = cast.unit("chongxin")
    assert LogEntry.objects.filter(org_unit=chongxin).exists()
    assert not LogEntry.objects.visible_to(admin).filter(org_unit=chongxin).exists()
    for entry in LogEntry.objects.visible_to(admin).select_related("org_unit"):
        assert entry.org_unit.path.startswith(cast.unit("jingchuan").path)


def test_province_sees_its_whole_tree_superuser_everything(cast, superuser):
    probe_all_units(cast)
    audit.record(None, PROBE)  # no unit: a deployment-wide entry
    assert visible_probes(cast.user("gansu", "clerk")) == {
        unit.code for unit in cast.units.values()
    }
    assert LogEntry.objects.visible_to(superuser).filter(action=PROBE).count() == 9
    assert (
        LogEntry.objects.visible_to(cast.user("gansu", "admin")).filter(action=PROBE).count() == 8
    )


@pytest.mark.parametrize("who", ["anonymous", "unbound"])
def test_nobody_without_a_unit_sees_anything(cast, who):
    probe_all_units(cast)
    if who == "anonymous":
        user = AnonymousUser()
    else:
        user = cast.user("jingchuan", "admin")
        user.org_unit = None
    assert not LogEntry.objects.visible_to(user).exists()
