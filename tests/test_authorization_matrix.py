"""The authorization matrix: every endpoint and page × who asks × whose row × what they do.

Rows: the acting user sits at 泾川县 (a county) or 平凉市 (a city), with each
role. Columns: the target row belongs to the actor's *own* unit, a *child*
unit, a *sibling* unit or the *parent* unit; the operation is read, create,
update or delete. The expected outcome comes from the policy as the DESIGN
states it (``expected``), written here independently of the code:

- everyone reads org units and departments of their own subtree;
- administrators manage org units, departments and users of their subtree,
  except their own unit's record, which the level above maintains;
- administrators and reviewers read the audit log of their subtree;
- nothing outside the subtree is visible: "not found" and "not yours" are one.

A denied write leaves every table and the audit log exactly as they were.
A meta-test fails when a URL exists that no row of this matrix covers.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from conftest import PASSWORD, UNIT_CODES, build_cast
from kechuang.accounts import services as accounts
from kechuang.accounts.models import User
from kechuang.audit import services as audit
from kechuang.audit.models import LogEntry
from kechuang.core.errors import Forbidden, InvalidInput, NotFound
from kechuang.evaluation.models import AssessmentRound, AssessmentScheme, IndexRun, Methodology
from kechuang.evaluation.services import assessment, methodologies, runs
from kechuang.indicators import services as indicators
from kechuang.indicators.models import DataValue, Indicator, Submission, Target
from kechuang.indicators.services import ValueChange, paper, targets
from kechuang.indicators.tests.conftest import build_catalogue
from kechuang.plans.models import Plan
from kechuang.plans.services import ingest as plans_ingest
from kechuang.regions import services as regions
from kechuang.regions.choices import Level
from kechuang.regions.models import Department, OrgUnit, OrgUnitCode

ROLES = ("clerk", "reviewer", "leader", "admin")
RELATIONS = ("own", "child", "sibling", "parent")
OPERATIONS = ("read", "create", "update", "delete")
ACTORS = {
    "jingchuan": {
        "own": "jingchuan",
        "child": "chengguan_town",
        "sibling": "chongxin",
        "parent": "pingliang",
    },
    "pingliang": {
        "own": "pingliang",
        "child": "jingchuan",
        "sibling": "lanzhou",
        "parent": "gansu",
    },
}
CODE_WIDTH = {Level.PROVINCE: 2, Level.CITY: 4, Level.COUNTY: 6, Level.TOWNSHIP: 9}


# ---------------------------------------------------------------- the policy, stated once


def expected(resource: str, operation: str, role: str, relation: str, target_level: int) -> bool:
    """Whether the policy allows ``role`` to do ``operation`` on a ``resource`` at ``relation``."""
    in_subtree = relation in ("own", "child")
    if operation == "read":
        readers = {
            "org-unit": set(ROLES),
            "department": set(ROLES),
            "user": {"admin"},
            "log-entry": {"admin", "reviewer"},
            "target": set(ROLES),
        }[resource]
        return role in readers and in_subtree
    writers = {"log-entry": set(), "target": {"admin", "leader"}}.get(resource, {"admin"})
    if role not in writers or not in_subtree:
        return False
    if resource == "org-unit":
        if operation == "create":  # the target is the new unit's parent
            return target_level < Level.TOWNSHIP
        return relation == "child"  # one's own unit is maintained by the level above
    return True


# ---------------------------------------------------------------- the world the matrix runs in


@dataclass
class World:
    """Fresh instances for one test, read from the rows the module built once."""

    lanzhou_clerk_pk: int

    def unit(self, key: str) -> OrgUnit:
        return (
            OrgUnit.objects.get(code=UNIT_CODES[key], valid_to__isnull=True)
            if key in (UNIT_CODES)
            else OrgUnit.objects.get(code=key)
        )

    def user(self, key: str, role: str) -> User:
        return User.objects.get(username=f"{key}_{role}")

    def department(self, key: str) -> Department:
        return Department.objects.get(name=f"{key}科技局")

    def entry(self, key: str) -> LogEntry:
        return LogEntry.objects.get(action="test.marker", org_unit__code=UNIT_CODES[key])

    def user_at(self, key: str, actor: User) -> User:
        """A user of unit ``key`` who is not the actor."""
        if key == "lanzhou":
            return User.objects.get(pk=self.lanzhou_clerk_pk)
        candidate = self.user(key, "clerk")
        return self.user(key, "leader") if candidate.pk == actor.pk else candidate

    def spare_unit(self, under: str) -> OrgUnit:
        """A fresh, empty unit below ``under``: something an administrator may really delete."""
        parent = self.unit(under)
        if parent.level >= Level.TOWNSHIP:
            parent = self.unit("jingchuan")
        return regions.create_org_unit(
            actor=None, parent=parent, code=new_code(parent, 7), name="待删测试单位"
        )


def new_code(parent: OrgUnit, seed: int) -> str:
    width = CODE_WIDTH[Level(parent.level + 1)] - len(parent.code)
    return parent.code + str(90 + seed).rjust(width, "9")[-width:]


DEPARTMENT_UNITS = ("gansu", "pingliang", "jingchuan", "chengguan_town", "chongxin", "lanzhou")


@pytest.fixture(scope="module")
def built_world(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """Build the cast and its rows once for the module; each test then runs in a rollback."""
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)
        cast = build_cast()
        for key in DEPARTMENT_UNITS:
            regions.create_department(actor=None, org_unit=cast.unit(key), name=f"{key}科技局")
            audit.record(None, "test.marker", None, org_unit=cast.unit(key))
        lanzhou_clerk = accounts.create_user(
            actor=None,
            username="lanzhou_clerk",
            password=PASSWORD,
            org_unit=cast.unit("lanzhou"),
            role="clerk",
        )
        build_submissions(cast)
        yield World(lanzhou_clerk.pk)
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def world(built_world: World, db: Any) -> World:
    return built_world


SUBMISSION_UNITS = ("gansu", "pingliang", "jingchuan", "chengguan_town", "chongxin", "lanzhou")
# One submission per state and unit, told apart by year.
APPROVED_YEAR, SUBMITTED_YEAR, DRAFT_YEAR, NEW_YEAR = 2021, 2022, 2023, 2030
TARGET_YEAR = 2024
VALID = {"RD_EXP": 0.16, "GOV_ST_EXP": 0.18, "GOV_EXP": 12.5, "HTE_NEW": 1}


def build_submissions(cast: Any) -> None:
    dataset = build_catalogue().dataset
    for key in SUBMISSION_UNITS:
        for year in (APPROVED_YEAR, SUBMITTED_YEAR, DRAFT_YEAR):
            submission = indicators.open_submission(dataset, cast.unit(key), year, actor=None)
            indicators.set_values(
                submission, [ValueChange(c, v) for c, v in VALID.items()], actor=None
            )
            if year == DRAFT_YEAR:
                targets.set_target(
                    actor=None,
                    org_unit=cast.unit(key),
                    indicator=Indicator.objects.get(code="RD_EXP"),
                    year=TARGET_YEAR,
                    comparator="gte",
                    value=0.2,
                )
                continue
            submission = indicators.submit_submission(submission, actor=None)
            if year == APPROVED_YEAR:
                while submission.status != "approved":
                    submission = indicators.approve_submission(submission, actor=None)


def fingerprint() -> str:
    """A digest of every row a write could touch, the audit log included."""
    tables = [
        OrgUnit.objects.order_by("pk").values_list(),
        OrgUnitCode.objects.order_by("pk").values_list(),
        Department.objects.order_by("pk").values_list(
            "pk", "org_unit", "name", "short_name", "is_active"
        ),
        User.objects.order_by("pk").values_list(
            "pk", "username", "org_unit", "role", "is_active", "display_name", "password"
        ),
        LogEntry.objects.order_by("pk").values_list("pk", "action", "object_id"),
        Submission.objects.order_by("pk").values_list(
            "pk", "status", "next_level", "visible_level", "return_reason"
        ),
        DataValue.objects.order_by("pk").values_list("pk", "value", "comment"),
    ]
    blob = json.dumps([list(t) for t in tables], default=str, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def matrix(*resources: str) -> list[Any]:
    return [
        pytest.param(
            resource,
            actor,
            role,
            relation,
            operation,
            id=f"{resource}-{actor}-{role}-{relation}-{operation}",
        )
        for resource in resources
        for actor in ACTORS
        for role in ROLES
        for relation in RELATIONS
        for operation in OPERATIONS
    ]


# ---------------------------------------------------------------- the API


API_TARGETS = {
    "org-unit": "api:org-unit",
    "department": "api:department",
    "user": "api:user",
    "log-entry": "api:log-entry",
    "target": "api:target",
}


def api_target(
    world: World, resource: str, key: str, relation: str, operation: str, actor: User
) -> Any:
    if resource == "org-unit":
        if operation == "delete" and relation == "child":
            return world.spare_unit(key)
        return world.unit(key)
    if resource == "department":
        return world.department(key)
    if resource == "user":
        return world.user_at(key, actor)
    if resource == "target":
        return Target.objects.get(org_unit__code=UNIT_CODES[key], year=TARGET_YEAR)
    return world.entry(key)


def api_payload(resource: str, operation: str, unit: OrgUnit, target: Any) -> dict[str, Any]:
    if resource == "org-unit":
        if operation == "create":
            width = CODE_WIDTH.get(Level(min(unit.level + 1, Level.TOWNSHIP)), 9)
            code = (unit.code + "8" * 9)[:width]
            return {"parent": unit.pk, "code": code, "name": "新设测试单位"}
        return {"name": f"{target.name}（更名）"}
    if resource == "department":
        if operation == "create":
            return {"org_unit": unit.pk, "name": "新设测试局"}
        return {"name": "更名测试局"}
    if resource == "user":
        if operation == "create":
            return {
                "username": "new_person",
                "password": PASSWORD,
                "org_unit": unit.pk,
                "role": "clerk",
            }
        return {"display_name": "新姓名"}
    if resource == "target":
        if operation == "create":
            return {
                "org_unit": unit.pk,
                "indicator": "GOV_EXP",
                "year": TARGET_YEAR,
                "comparator": "gte",
                "value": 1.0,
            }
        return {"value": 2.0}
    return {"action": "forged"}


@pytest.mark.parametrize(
    ("resource", "actor_key", "role", "relation", "operation"),
    matrix("org-unit", "department", "user", "log-entry", "target"),
)
def test_api_matrix(
    world: World, resource: str, actor_key: str, role: str, relation: str, operation: str
) -> None:
    actor = world.user(actor_key, role)
    key = ACTORS[actor_key][relation]
    unit = world.unit(key)
    target = api_target(world, resource, key, relation, operation, actor)
    allowed = expected(resource, operation, role, relation, unit.level)
    client = APIClient()
    client.force_authenticate(actor)
    name = API_TARGETS[resource]
    before, log_count = fingerprint(), LogEntry.objects.count()

    if operation == "read":
        listing = client.get(reverse(f"{name}-list"), {"limit": 1000})
        detail = client.get(reverse(f"{name}-detail", args=[target.pk]))
        if allowed:
            assert listing.status_code == 200
            assert target.pk in {row["id"] for row in listing.json()["results"]}
            assert detail.status_code == 200
        elif expected(resource, "read", role, "own", unit.level):
            # The role may read this kind of row, but not this one: it does not exist for them.
            assert target.pk not in {row["id"] for row in listing.json()["results"]}
            assert detail.status_code == 404
        else:
            assert listing.status_code == 403
            assert detail.status_code in (403, 404)
        assert fingerprint() == before
        return

    payload = api_payload(resource, operation, unit, target)
    if operation == "create":
        response = client.post(reverse(f"{name}-list"), payload, format="json")
    elif operation == "update":
        response = client.patch(reverse(f"{name}-detail", args=[target.pk]), payload, format="json")
    else:
        response = client.delete(reverse(f"{name}-detail", args=[target.pk]))

    if allowed:
        assert response.status_code in (200, 201, 204), response.content
        assert fingerprint() != before
        assert LogEntry.objects.count() == log_count + 1
        entry = LogEntry.objects.order_by("-pk").first()
        assert entry.actor_id == actor.pk
    else:
        assert response.status_code in (400, 403, 404, 405), response.content
        assert fingerprint() == before, "a denied write changed the database"


def test_api_rejects_anonymous(world: World) -> None:
    client = APIClient()
    for name in API_TARGETS.values():
        assert client.get(reverse(f"{name}-list")).status_code in (401, 403)
    assert client.get(reverse("api:schema")).status_code in (401, 403)
    assert client.get(reverse("api:api-root")).status_code in (401, 403)


def test_api_cannot_move_rows_sideways(world: World) -> None:
    """Write checks look at the old and the new owner: no pushing rows out of one's subtree."""
    admin = world.user("jingchuan", "admin")
    client = APIClient()
    client.force_authenticate(admin)
    before = fingerprint()
    department = world.department("jingchuan")
    sibling = world.unit("chongxin")
    moved = client.patch(
        reverse("api:department-detail", args=[department.pk]),
        {"org_unit": sibling.pk},
        format="json",
    )
    assert moved.status_code == 400
    clerk = world.user("jingchuan", "clerk")
    pushed = client.patch(
        reverse("api:user-detail", args=[clerk.pk]), {"org_unit": sibling.pk}, format="json"
    )
    assert pushed.status_code == 400
    # …nor pulling a row in from outside: it is not even visible.
    pulled = client.patch(
        reverse("api:user-detail", args=[world.user("chongxin", "clerk").pk]),
        {"org_unit": world.unit("jingchuan").pk},
        format="json",
    )
    assert pulled.status_code == 404
    assert fingerprint() == before


def test_api_root_schema_and_docs_for_a_signed_in_user(world: World) -> None:
    client = APIClient()
    client.force_authenticate(world.user("jingchuan", "clerk"))
    assert client.get(reverse("api:api-root")).status_code == 200
    schema = client.get(reverse("api:schema"))
    assert schema.status_code == 200
    assert b"/api/v1/regions/org-units/" in schema.content
    docs = client.get(reverse("api:docs"))
    assert docs.status_code == 200
    # The docs page must work offline: no third-party host anywhere in it.
    assert b"cdn" not in docs.content.lower()
    assert b"//unpkg" not in docs.content
    assert b"jsdelivr" not in docs.content


def test_api_token_login_is_throttled_like_the_page(world: World, settings: Any) -> None:
    client = APIClient()
    url = reverse("api:token")
    ok = client.post(url, {"username": "jingchuan_clerk", "password": PASSWORD}, format="json")
    assert ok.status_code == 200
    assert len(ok.json()["token"]) == 40
    authed = APIClient()
    authed.credentials(HTTP_AUTHORIZATION=f"Token {ok.json()['token']}")
    assert authed.get(reverse("api:org-unit-list")).status_code == 200
    for _ in range(settings.LOGIN_MAX_FAILURES):
        bad = client.post(url, {"username": "jingchuan_clerk", "password": "wrong"}, format="json")
        assert bad.status_code == 400
    locked = client.post(url, {"username": "jingchuan_clerk", "password": PASSWORD}, format="json")
    assert locked.status_code == 429


# ---------------------------------------------------------------- the pages


@dataclass(frozen=True)
class Page:
    """A page operation: how to call it and which cell of the policy it is."""

    name: str
    resource: str
    operation: str
    method: str = "get"


PAGES = (
    Page("regions:unit-detail", "org-unit", "read"),
    Page("regions:unit-create", "org-unit", "create", "post"),
    Page("regions:unit-edit", "org-unit", "update", "post"),
    Page("regions:unit-retire", "org-unit", "update", "post"),
    Page("regions:unit-reinstate", "org-unit", "update", "post"),
    Page("regions:unit-delete", "org-unit", "delete", "post"),
    Page("regions:department-create", "department", "create", "post"),
    Page("regions:department-edit", "department", "update", "post"),
    Page("regions:department-delete", "department", "delete", "post"),
    Page("accounts:user-create", "user", "create", "post"),
    Page("accounts:user-edit", "user", "update", "post"),
    Page("accounts:user-deactivate", "user", "delete", "post"),
    Page("accounts:user-set-password", "user", "update", "post"),
)
SPARE_TARGET_PAGES = {"regions:unit-retire", "regions:unit-reinstate", "regions:unit-delete"}
FORM_PAGES = {
    "regions:unit-create",
    "regions:unit-edit",
    "regions:unit-delete",
    "regions:department-create",
    "regions:department-edit",
    "regions:department-delete",
    "accounts:user-create",
    "accounts:user-edit",
    "accounts:user-set-password",
}


def page_request(
    world: World, page: Page, key: str, relation: str, actor: User
) -> tuple[str, dict[str, Any]]:
    unit = world.unit(key)
    if page.name == "regions:unit-create":
        code = (unit.code + "8" * 9)[: CODE_WIDTH.get(Level(min(unit.level + 1, 4)), 9)]
        return reverse(page.name, args=[unit.pk]), {
            "name": "新设测试单位",
            "code": code,
            "kind": "administrative",
        }
    if page.resource == "org-unit":
        target = unit
        if page.name in SPARE_TARGET_PAGES and relation == "child":
            # Retiring or deleting needs a unit with nothing below it.
            target = world.spare_unit(key)
        if page.name == "regions:unit-reinstate":
            target.valid_to = target.valid_to or datetime.date(2024, 1, 1)
            target.save(update_fields=["valid_to"])
        data = {
            "name": f"{target.name}（更名）",
            "code": target.code,
            "kind": target.kind,
            "parent": target.parent.code,
        }
        return reverse(page.name, args=[target.pk]), data
    if page.resource == "department":
        if page.operation == "create":
            return reverse(page.name), {
                "org_unit": unit.code,
                "name": "新设测试局",
                "is_active": "on",
            }
        department = world.department(key)
        return reverse(page.name, args=[department.pk]), {
            "org_unit": department.org_unit.code,
            "name": "更名测试局",
            "is_active": "on",
        }
    if page.operation == "create":
        return reverse(page.name), {
            "username": "new_person",
            "password": PASSWORD,
            "org_unit": unit.code,
            "role": "clerk",
        }
    target_user = world.user_at(key, actor)
    data = {
        "display_name": "新姓名",
        "org_unit": target_user.org_unit.code,
        "role": target_user.role,
        "is_active": "on",
        "password": "Another-Passw0rd!",
        "password_again": "Another-Passw0rd!",
    }
    return reverse(page.name, args=[target_user.pk]), data


@pytest.mark.parametrize(
    ("page_op", "actor_key", "role", "relation"),
    [
        pytest.param(page, actor, role, relation, id=f"{page.name}-{actor}-{role}-{relation}")
        for page in PAGES
        for actor in ACTORS
        for role in ROLES
        for relation in RELATIONS
    ],
)
def test_page_matrix(world: World, page_op: Page, actor_key: str, role: str, relation: str) -> None:
    page = page_op
    actor = world.user(actor_key, role)
    key = ACTORS[actor_key][relation]
    unit = world.unit(key)
    client = Client()
    client.force_login(actor)
    url, data = page_request(world, page, key, relation, actor)
    allowed = expected(page.resource, page.operation, role, relation, unit.level)
    before, log_count = fingerprint(), LogEntry.objects.count()

    if page.name in FORM_PAGES:
        form = client.get(url)
        assert form.status_code == (200 if allowed else form.status_code)
        if not allowed:
            assert form.status_code in (200, 403, 404)
            if form.status_code == 200:  # a create form; the denial comes at submit time
                assert page.operation == "create"
    if page.method == "get":
        response = client.get(url)
        assert response.status_code == (200 if allowed else 404)
        assert fingerprint() == before
        return

    response = client.post(url, data)
    if allowed:
        assert response.status_code == 302, response.content.decode()[:2000]
        assert fingerprint() != before
        assert LogEntry.objects.count() == log_count + 1
        assert LogEntry.objects.order_by("-pk").first().actor_id == actor.pk
    else:
        # Denied: an error page, or the form again with the choice refused.
        assert response.status_code in (200, 403, 404, 405)
        assert fingerprint() == before, "a denied write changed the database"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("actor_key", tuple(ACTORS))
def test_lists_show_only_the_subtree(world: World, actor_key: str, role: str) -> None:
    actor = world.user(actor_key, role)
    client = Client()
    client.force_login(actor)
    sibling = world.unit(ACTORS[actor_key]["sibling"])
    child = world.unit(ACTORS[actor_key]["child"])
    for name in ("home", "regions:unit-list", "regions:department-list"):
        page = client.get(reverse(name)).content.decode()
        assert sibling.name not in page, name
    units = client.get(reverse("regions:unit-list"), {"q": child.code}).content.decode()
    assert child.name in units
    departments = client.get(reverse("regions:department-list")).content.decode()
    assert world.department(ACTORS[actor_key]["child"]).name in departments
    assert world.department(ACTORS[actor_key]["sibling"]).name not in departments

    for name, readers in (
        ("accounts:user-list", {"admin"}),
        ("audit:log", {"admin", "reviewer"}),
        ("audit:log-csv", {"admin", "reviewer"}),
    ):
        response = client.get(reverse(name))
        assert response.status_code == (200 if role in readers else 403), name
        if response.status_code == 200:
            body = (
                b"".join(response.streaming_content) if response.streaming else response.content
            ).decode()
            assert sibling.name not in body, name


def test_anonymous_is_sent_to_login(world: World) -> None:
    client = Client()
    login = reverse("accounts:login")
    for name, args in (
        ("home", []),
        ("regions:unit-list", []),
        ("regions:department-list", []),
        ("accounts:user-list", []),
        ("audit:log", []),
        ("audit:log-csv", []),
        ("accounts:password-change", []),
        ("regions:unit-detail", [world.unit("jingchuan").pk]),
    ):
        response = client.get(reverse(name, args=args))
        assert response.status_code == 302, name
        assert response["Location"].startswith(login), name
    assert client.get(login).status_code == 200


def test_language_switch_and_logout(world: World) -> None:
    client = Client()
    client.force_login(world.user("jingchuan", "clerk"))
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_password_change_is_own_only(world: World) -> None:
    clerk = world.user("jingchuan", "clerk")
    client = Client()
    client.force_login(clerk)
    before = fingerprint()
    wrong = client.post(
        reverse("accounts:password-change"),
        {
            "old_password": "not-it",
            "password": "Another-Passw0rd!",
            "password_again": "Another-Passw0rd!",
        },
    )
    assert wrong.status_code == 200
    assert fingerprint() == before
    ok = client.post(
        reverse("accounts:password-change"),
        {
            "old_password": PASSWORD,
            "password": "Another-Passw0rd!",
            "password_again": "Another-Passw0rd!",
        },
    )
    assert ok.status_code == 302
    clerk.refresh_from_db()
    assert clerk.check_password("Another-Passw0rd!")
    assert LogEntry.objects.filter(action="accounts.user.set_password", actor=clerk).count() == 1


# ---------------------------------------------------------------- indicator data (issue 3)


CATALOGUE_URLS = {
    "api:indicator-list",
    "api:indicator-detail",
    "api:dataset-list",
    "api:dataset-detail",
}
SUBMISSION_ACTIONS = ("submit", "approve", "return", "reopen", "values", "validation")
SUBMISSION_URLS = {
    "api:submission-list",
    "api:submission-detail",
    "api:data-value-list",
    "api:data-value-detail",
} | {f"api:submission-{name}" for name in SUBMISSION_ACTIONS}
SUBMISSION_OPERATIONS = (
    "read",
    "values-read",
    "open",
    "values",
    "submit",
    "approve",
    "return",
    "reopen",
    "validation",
)


def expected_submission(
    operation: str, role: str, relation: str, actor: User, unit: OrgUnit
) -> bool:
    """The workflow policy (ADR 0004), stated from the actor's side.

    Reads: the subtree, and only what review has carried up to the actor's
    level (the target's submitted data waits for the level just above it, the
    one approving first: the city for a county or township, the province for a city).
    Writes: clerks open and fill their own unit's drafts, nobody else's;
    reviewers approve or return at exactly the pending level; reopening belongs
    to the final level (the province here).
    """
    in_subtree = relation in ("own", "child")
    pending = 2 if unit.level > 2 else 1
    level = actor.org_unit.level
    if operation in ("read", "values-read", "validation"):
        return in_subtree and level >= pending
    if operation == "open":
        return role == "clerk" and relation == "own"
    if operation in ("values", "submit"):
        return role == "clerk" and relation == "own"
    if operation in ("approve", "return"):
        return role == "reviewer" and relation == "child" and level == pending
    return role == "reviewer" and relation == "child" and level == 1  # reopen


@pytest.mark.parametrize(
    ("actor_key", "role", "relation", "operation"),
    [
        pytest.param(actor, role, relation, op, id=f"{actor}-{role}-{relation}-{op}")
        for actor in ACTORS
        for role in ROLES
        for relation in RELATIONS
        for op in SUBMISSION_OPERATIONS
    ],
)
def test_submission_matrix(
    world: World, actor_key: str, role: str, relation: str, operation: str
) -> None:
    actor = world.user(actor_key, role)
    unit = world.unit(ACTORS[actor_key][relation])
    year = {
        "approve": SUBMITTED_YEAR,
        "return": SUBMITTED_YEAR,
        "reopen": APPROVED_YEAR,
        "read": SUBMITTED_YEAR,
        "values-read": SUBMITTED_YEAR,
        "validation": SUBMITTED_YEAR,
    }.get(operation, DRAFT_YEAR)
    target = Submission.objects.get(org_unit=unit, year=year)
    allowed = expected_submission(operation, role, relation, actor, unit)
    client = APIClient()
    client.force_authenticate(actor)
    before, log_count = fingerprint(), LogEntry.objects.count()

    if operation in ("read", "validation"):
        name = "api:submission-validation" if operation == "validation" else "api:submission-detail"
        response = client.get(reverse(name, args=[target.pk]))
        listing = client.get(reverse("api:submission-list"), {"limit": 1000})
        assert response.status_code == (200 if allowed else 404)
        assert (target.pk in {r["id"] for r in listing.json()["results"]}) is allowed
        assert fingerprint() == before
        return
    if operation == "values-read":
        listing = client.get(reverse("api:data-value-list"), {"submission": target.pk})
        cell = DataValue.objects.filter(submission=target).first()
        detail = client.get(reverse("api:data-value-detail", args=[cell.pk]))
        assert (listing.json()["count"] == len(VALID)) is allowed
        assert detail.status_code == (200 if allowed else 404)
        return

    if operation == "open":
        response = client.post(
            reverse("api:submission-list"),
            {"dataset": "COUNTY_ANNUAL", "org_unit": unit.pk, "year": NEW_YEAR},
            format="json",
        )
    elif operation == "values":
        response = client.post(
            reverse("api:submission-values", args=[target.pk]),
            {"values": [{"indicator": "RD_EXP", "value": 0.3}]},
            format="json",
        )
    else:
        name = f"api:submission-{operation}"
        response = client.post(
            reverse(name, args=[target.pk]), {"reason": "口径需复核"}, format="json"
        )
    if allowed:
        assert response.status_code in (200, 201), response.content
        assert fingerprint() != before
        assert LogEntry.objects.filter(pk__gt=0).count() > log_count
        assert LogEntry.objects.order_by("-pk").first().actor_id == actor.pk
    else:
        assert response.status_code in (400, 403, 404, 409), response.content
        assert fingerprint() == before, "a denied write changed the database"


INDICATOR_PAGES = {
    # page name → (the workflow operation it performs, HTTP method, submission year)
    "indicators:submission": ("read", "get", SUBMITTED_YEAR),
    "indicators:approve": ("approve", "post", SUBMITTED_YEAR),
    "indicators:return": ("return", "post", SUBMITTED_YEAR),
    "indicators:reopen": ("reopen", "post", APPROVED_YEAR),
    "indicators:submission-pdf": ("read", "get", SUBMITTED_YEAR),
    "indicators:submission-history": ("read", "get", SUBMITTED_YEAR),
    "indicators:submission-template": ("read", "get", SUBMITTED_YEAR),
}


@pytest.mark.parametrize(
    ("page_name", "actor_key", "role", "relation"),
    [
        pytest.param(name, actor, role, relation, id=f"{name}-{actor}-{role}-{relation}")
        for name in [*INDICATOR_PAGES, "indicators:submission-save"]
        for actor in ACTORS
        for role in ROLES
        for relation in RELATIONS
    ],
)
def test_indicator_page_matrix(
    world: World, page_name: str, actor_key: str, role: str, relation: str
) -> None:
    actor = world.user(actor_key, role)
    unit = world.unit(ACTORS[actor_key][relation])
    if page_name == "indicators:submission-save":
        operation, method, year, name = "values", "post", DRAFT_YEAR, "indicators:submission"
    else:
        (operation, method, year), name = INDICATOR_PAGES[page_name], page_name
    target = Submission.objects.get(org_unit=unit, year=year)
    allowed = expected_submission(operation, role, relation, actor, unit)
    client = Client()
    client.force_login(actor)
    before, log_count = fingerprint(), LogEntry.objects.count()
    url = reverse(name, args=[target.pk])
    if method == "get":
        assert client.get(url).status_code == (200 if allowed else 404)
        return
    data = {
        "reason": "口径需复核",
        "v_RD_EXP": "0.3",
        "v_GOV_ST_EXP": "0.18",
        "v_GOV_EXP": "12.5",
        "v_HTE_NEW": "1",
        "save": "1",
    }
    response = client.post(url, data)
    if allowed:
        assert response.status_code == 302
        assert fingerprint() != before
        assert LogEntry.objects.order_by("-pk").first().actor_id == actor.pk
        assert LogEntry.objects.count() > log_count
    else:
        assert response.status_code in (200, 403, 404, 409)
        assert fingerprint() == before, "a denied write changed the database"


@pytest.mark.parametrize(
    ("actor_key", "role", "relation"),
    [
        pytest.param(a, r, rel, id=f"{a}-{r}-{rel}")
        for a in ACTORS
        for r in ROLES
        for rel in RELATIONS
    ],
)
def test_scan_upload_and_view_matrix(
    world: World, settings: Any, tmp_path: Any, actor_key: str, role: str, relation: str
) -> None:
    settings.MEDIA_ROOT = tmp_path
    actor = world.user(actor_key, role)
    unit = world.unit(ACTORS[actor_key][relation])
    target = Submission.objects.get(org_unit=unit, year=SUBMITTED_YEAR)
    client = Client()
    client.force_login(actor)
    before = fingerprint()
    upload = SimpleUploadedFile("stamped.pdf", b"%PDF-1.7\n", content_type="application/pdf")
    response = client.post(
        reverse("indicators:submission-scan-upload", args=[target.pk]), {"scan": upload}
    )
    # Only the submitting unit's own clerks attach its stamped copy.
    if role == "clerk" and relation == "own":
        assert response.status_code == 302
        target.refresh_from_db()
        assert target.scan
    else:
        assert response.status_code in (403, 404)
        assert fingerprint() == before
        # Give the view something to serve: the system attaches the scan instead.
        paper.attach_scan(target, SimpleUploadedFile("s.pdf", b"%PDF-1.7\n"), actor=None)
    view = client.get(reverse("indicators:submission-scan", args=[target.pk]))
    readable = expected_submission("read", role, relation, actor, unit)
    assert view.status_code == (200 if readable else 404)


@pytest.mark.parametrize(
    ("actor_key", "role", "relation"),
    [
        pytest.param(a, r, rel, id=f"{a}-{r}-{rel}")
        for a in ACTORS
        for r in ROLES
        for rel in RELATIONS
    ],
)
def test_targets_page_and_status_matrix(
    world: World, actor_key: str, role: str, relation: str
) -> None:
    actor = world.user(actor_key, role)
    unit = world.unit(ACTORS[actor_key][relation])
    in_subtree = relation in ("own", "child")
    client = Client()
    client.force_login(actor)
    page = client.get(reverse("indicators:targets"), {"unit": unit.pk, "year": TARGET_YEAR})
    assert page.status_code == (200 if in_subtree else 404)
    api = APIClient()
    api.force_authenticate(actor)
    rows = api.get(reverse("api:target-status"), {"year": TARGET_YEAR}).json()
    assert (unit.code in {r["org_unit_code"] for r in rows}) is in_subtree


@pytest.mark.parametrize(
    ("actor_key", "role", "relation"),
    [
        pytest.param(a, r, rel, id=f"{a}-{r}-{rel}")
        for a in ACTORS
        for r in ROLES
        for rel in RELATIONS
    ],
)
def test_target_form_matrix(world: World, actor_key: str, role: str, relation: str) -> None:
    actor = world.user(actor_key, role)
    unit = world.unit(ACTORS[actor_key][relation])
    allowed = expected("target", "create", role, relation, unit.level)
    client = Client()
    client.force_login(actor)
    form = client.get(reverse("indicators:target-set"))
    assert form.status_code == (200 if role in ("admin", "leader") else 403)
    before = fingerprint()
    response = client.post(
        reverse("indicators:target-set"),
        {
            "org_unit": unit.code,
            "indicator": "GOV_EXP",
            "year": TARGET_YEAR,
            "comparator": "gte",
            "value": "3",
        },
    )
    if allowed:
        assert response.status_code == 302
        assert Target.objects.filter(org_unit=unit, indicator__code="GOV_EXP").exists()
    else:
        assert response.status_code in (200, 403)
        assert fingerprint() == before, "a refused target changed the database"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("relation", RELATIONS)
def test_upload_matrix(world: World, role: str, relation: str) -> None:
    """A CSV with one value for the unit at ``relation``, uploaded by the 泾川县 user."""
    actor = world.user("jingchuan", role)
    unit = world.unit(ACTORS["jingchuan"][relation])
    client = Client()
    client.force_login(actor)
    assert client.get(reverse("indicators:upload")).status_code == 200
    before = fingerprint()
    csv = f"org_code,indicator_code,year,value\n{unit.code},RD_EXP,{DRAFT_YEAR},0.42\n"
    response = client.post(
        reverse("indicators:upload"), {"file": SimpleUploadedFile("v.csv", csv.encode())}
    )
    # Clerks upload for their own unit only: a child's draft is not theirs to see or fill.
    if role == "clerk" and relation == "own":
        assert response.status_code == 302
        assert fingerprint() != before
    else:
        assert response.status_code in (200, 403)
        assert fingerprint() == before, "a refused upload changed the database"


@pytest.mark.parametrize("role", ROLES)
def test_only_clerks_open_their_own_units_form(world: World, role: str) -> None:
    actor = world.user("jingchuan", role)
    client = Client()
    client.force_login(actor)
    assert client.get(reverse("indicators:my-data")).status_code == 200
    assert client.get(reverse("indicators:review")).status_code == 200
    before = fingerprint()
    response = client.post(
        reverse("indicators:open"), {"dataset": "COUNTY_ANNUAL", "year": NEW_YEAR}
    )
    if role == "clerk":
        assert response.status_code == 302
        assert Submission.objects.filter(org_unit=actor.org_unit, year=NEW_YEAR).exists()
    else:
        assert response.status_code == 403
        assert fingerprint() == before


def test_the_review_matrix_lists_only_the_viewers_subtree(world: World) -> None:
    client = Client()
    client.force_login(world.user("pingliang", "reviewer"))
    page = client.get(
        reverse("indicators:review"), {"dataset": "COUNTY_ANNUAL", "year": SUBMITTED_YEAR}
    ).content.decode()
    assert "泾川县" in page
    assert "崇信县" in page
    assert "城关区" not in page  # a county of the sibling city 兰州市


@pytest.mark.parametrize("name", sorted(CATALOGUE_URLS))
def test_the_catalogue_is_readable_by_everyone_signed_in_and_by_nobody_else(
    world: World, name: str
) -> None:
    build_catalogue_if_missing()
    args = []
    if name.endswith("detail"):
        args = ["RD_EXP"] if "indicator" in name else ["COUNTY_ANNUAL"]
    url = reverse(name, args=args)
    assert APIClient().get(url).status_code in (401, 403)
    for role in ROLES:
        client = APIClient()
        client.force_authenticate(world.user("jingchuan", role))
        assert client.get(url).status_code == 200
        assert client.post(url, {}, format="json").status_code in (403, 405)


def build_catalogue_if_missing() -> None:
    assert DataValue.objects.exists(), "the module world holds the catalogue"


# ---------------------------------------------------------------- nothing left uncovered


# ---------------------------------------------------------------- composite index

EVALUATION_URLS = {
    "evaluation:methodology-import",
    "evaluation:ranking",
    "evaluation:compute",
    "evaluation:profile",
    "evaluation:methodology",
    "evaluation:assessment",
    "evaluation:assessment-round",
}


def official_table_bytes() -> bytes:
    import io

    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in (
        ["层级", "代码", "名称", "上级代码", "方向", "权重", "标准值"],
        [2, "T", "测试指数", "", "", "", ""],
        [1, "RD_EXP", "研发经费支出", "T", "正向", 1, 2],
    ):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def small_methodology() -> Any:
    entry = methodologies.MethodologyEntry(
        code="MATRIX_INDEX",
        version=APPROVED_YEAR,
        name="测试指数",
        family="standard_value",
        steps=[
            {"normalise": {"method": "goalposts", "lower": 0, "upper": "target"}},
            {"aggregate": {"method": "arithmetic"}},
        ],
        nodes=[
            methodologies.NodeEntry("T", "测试指数", 2),
            methodologies.NodeEntry("RD_EXP", "研发经费支出", 1, "T", target=1.0),
            methodologies.NodeEntry("GOV_EXP", "一般公共预算支出", 1, "T", target=20.0),
        ],
    )
    return methodologies.save_methodology(entry, source="shipped", actor=None)


@pytest.mark.parametrize(
    ("actor_key", "role", "relation"),
    [
        pytest.param(a, r, rel, id=f"{a}-{r}-{rel}")
        for a in ACTORS
        for r in ROLES
        for rel in RELATIONS
    ],
)
def test_evaluation_matrix(world: World, actor_key: str, role: str, relation: str) -> None:
    """Rankings are published among peers; the values behind a score stay in the subtree."""
    methodology = small_methodology()
    run, _new = runs.compute(methodology, APPROVED_YEAR, within=world.unit("gansu"), actor=None)
    actor = world.user(actor_key, role)
    unit = world.unit(ACTORS[actor_key][relation])
    client = Client()
    client.force_login(actor)
    ranking = client.get(reverse("evaluation:ranking"), {"run": run.pk})
    assert ranking.status_code == 200
    assert "泾川县" in ranking.content.decode()
    assert client.get(reverse("evaluation:methodology", args=[methodology.pk])).status_code == 200
    # An official table as a new version: province administrators only (the catalogue rule).
    table = SimpleUploadedFile("表.xlsx", official_table_bytes())
    versions = Methodology.objects.count()
    client.post(
        reverse("evaluation:methodology-import", args=[methodology.pk]),
        {"file": table, "version": APPROVED_YEAR + 1},
    )
    assert Methodology.objects.count() == versions
    ranked = unit.level == Level.COUNTY
    profile = client.get(reverse("evaluation:profile", args=[run.pk, unit.code]))
    assert profile.status_code == (200 if ranked and relation in ("own", "child") else 404)
    runs_before, log_before = IndexRun.objects.count(), LogEntry.objects.count()
    response = client.post(
        reverse("evaluation:compute"), {"methodology": methodology.pk, "year": APPROVED_YEAR}
    )
    assert response.status_code == 302
    # Leaders and administrators rank the units below their own; nobody else computes.
    if role in ("admin", "leader") and world.unit(actor_key).level < Level.COUNTY:
        assert IndexRun.objects.count() == runs_before + 1
    else:
        assert (IndexRun.objects.count(), LogEntry.objects.count()) == (runs_before, log_before)


def matrix_schemes() -> tuple[AssessmentScheme, AssessmentScheme]:
    """One scheme over counties and the same rules over townships, on the world's catalogue."""
    rules = {
        "conditions": [{"indicator": "RD_EXP", "comparator": ">=", "threshold": 0.1}],
        "criteria": [
            {"indicator": "GOV_ST_SHARE", "weight": 60, "rule": "linear", "lower": 0, "upper": 2},
            {"indicator": "HTE_NEW", "weight": 40, "rule": "steps", "steps": [[1, 40]]},
        ],
        "shortlist": {"top": 1},
    }
    return tuple(
        assessment.save_scheme(
            assessment.SchemeEntry(code, APPROVED_YEAR, name, kind, level, rules),
            source="imported",
            actor=None,
        )
        for code, name, kind, level in (
            ("MATRIX_COUNTY", "测试县域评价", "innovative_county", Level.COUNTY),
            ("MATRIX_TOWNSHIP", "测试乡镇评价", "innovative_township", Level.TOWNSHIP),
        )
    )


# Whose rounds each actor sees: those over a scope the actor's unit lies in, and those below it.
ROUNDS_SEEN = {
    "jingchuan": {"gansu", "pingliang", "jingchuan"},
    "pingliang": {"gansu", "pingliang", "jingchuan"},
}


@pytest.mark.parametrize(
    ("actor_key", "role", "relation"),
    [
        pytest.param(a, r, rel, id=f"{a}-{r}-{rel}")
        for a in ACTORS
        for r in ROLES
        for rel in RELATIONS
    ],
)
def test_assessment_matrix(world: World, actor_key: str, role: str, relation: str) -> None:
    """Rounds are published like rankings; leaders and administrators run them below their unit."""
    county, township = matrix_schemes()
    # 城关区 gets approved data so that 兰州市 (a sibling city) has a round of its own.
    dataset = Submission.objects.filter(year=APPROVED_YEAR).first().dataset
    submission = indicators.open_submission(
        dataset, world.unit("chengguan_district"), APPROVED_YEAR, actor=None
    )
    indicators.set_values(submission, [ValueChange(c, v) for c, v in VALID.items()], actor=None)
    submission = indicators.submit_submission(submission, actor=None)
    while submission.status != "approved":
        submission = indicators.approve_submission(submission, actor=None)
    published = {
        key: assessment.assess(scheme, APPROVED_YEAR, within=world.unit(key), actor=None)[0]
        for key, scheme in (
            ("gansu", county),
            ("pingliang", township),
            ("jingchuan", township),
            ("lanzhou", county),
        )
    }
    actor = world.user(actor_key, role)
    client = Client()
    client.force_login(actor)
    listing = client.get(reverse("evaluation:assessment"))
    assert listing.status_code == 200
    seen = {r.pk for r in listing.context["rounds"]}
    assert seen == {published[key].pk for key in ROUNDS_SEEN[actor_key]}
    for key, round_ in published.items():
        page = client.get(reverse("evaluation:assessment-round", args=[round_.pk]))
        assert page.status_code == (200 if key in ROUNDS_SEEN[actor_key] else 404), key

    def unchanged() -> tuple[str, int, int]:
        return fingerprint(), AssessmentRound.objects.count(), LogEntry.objects.count()

    # The page runs a round over the actor's own unit: counties are below a city, not a county.
    before = unchanged()
    response = client.post(
        reverse("evaluation:assessment"), {"scheme": county.pk, "year": APPROVED_YEAR}
    )
    if role in ("admin", "leader") and world.unit(actor_key).level < Level.COUNTY:
        assert response.status_code == 302
        assert AssessmentRound.objects.filter(within=world.unit(actor_key)).exists()
    else:
        assert response.status_code == 200
        assert unchanged() == before, "a refused round changed the database"

    # The service, over the unit at ``relation``, with the scheme of the level below it.
    unit = world.unit(ACTORS[actor_key][relation])
    scheme = county if unit.level < Level.COUNTY else township
    allowed = (
        role in ("admin", "leader") and relation in ("own", "child") and unit.level < Level.TOWNSHIP
    )
    before = unchanged()
    if allowed:
        round_, _new = assessment.assess(scheme, APPROVED_YEAR, within=unit, actor=actor)
        assert round_.within == unit
        assert round_ in assessment.visible_rounds(actor)
    else:
        with pytest.raises((Forbidden, NotFound, InvalidInput)):
            assessment.assess(scheme, APPROVED_YEAR, within=unit, actor=actor)
        assert unchanged() == before, "a refused round changed the database"


# ---------------------------------------------------------------- plans

PLAN_URLS = {
    "plans:list",
    "plans:ingest",
    "plans:detail",
    "plans:table",
    "plans:task",
    "plans:bulletin",
}
PLAN_TEXT = "测试工作方案\n一、重点任务\n(一)培育创新主体(牵头单位:科技局)\n"


@pytest.mark.parametrize(
    ("actor_key", "role", "relation"),
    [
        pytest.param(a, r, rel, id=f"{a}-{r}-{rel}")
        for a in ACTORS
        for r in ROLES
        for rel in RELATIONS
    ],
)
def test_plans_matrix(world: World, actor_key: str, role: str, relation: str) -> None:
    """A plan is read inside its unit's subtree; publishing is for leaders and administrators."""
    unit = world.unit(ACTORS[actor_key][relation])
    plan = plans_ingest.publish(
        plans_ingest.propose(PLAN_TEXT, unit), org_unit=unit, actor=None, text=PLAN_TEXT
    )
    client = Client()
    client.force_login(world.user(actor_key, role))
    visible = relation in ("own", "child")
    assert client.get(reverse("plans:list")).status_code == 200
    assert client.get(reverse("plans:detail", args=[plan.pk])).status_code == (
        200 if visible else 404
    )
    table = client.get(reverse("plans:table", args=[plan.pk, "xlsx"]))
    assert table.status_code == (200 if visible else 404)
    bulletin = client.get(reverse("plans:bulletin", args=[plan.pk, "docx"]))
    assert bulletin.status_code == (200 if visible else 404)
    task = plan.tasks.order_by("order").last()
    assert client.get(reverse("plans:task", args=[task.pk])).status_code == (
        200 if visible else 404
    )
    events = task.events.count()
    urged = client.post(reverse("plans:task", args=[task.pk]), {"action": "urge", "text": "催"})
    assert urged.status_code == (302 if visible else 404)
    # Urging is supervision: leaders and administrators of the plan's unit or above.
    supervises = visible and role in ("admin", "leader")
    assert task.events.count() == events + (1 if supervises else 0)
    publisher = role in ("admin", "leader")
    assert client.get(reverse("plans:ingest")).status_code == (200 if publisher else 403)
    before = Plan.objects.count()
    response = client.post(
        reverse("plans:ingest"), {"text": PLAN_TEXT, "title": "测试", "publish": "1"}
    )
    if publisher:
        assert response.status_code == 302
        assert Plan.objects.count() == before + 1
    else:
        assert response.status_code == 403
        assert Plan.objects.count() == before


COVERED = (
    {page.name for page in PAGES}
    | {f"{name}-{suffix}" for name in API_TARGETS.values() for suffix in ("list", "detail")}
    | {
        "home",
        "regions:unit-list",
        "regions:department-list",
        "accounts:user-list",
        "audit:log",
        "audit:log-csv",
        "accounts:login",
        "accounts:logout",
        "accounts:password-change",
        "set_language",
        "api:api-root",
        "api:schema",
        "api:docs",
        "api:token",
    }
    | CATALOGUE_URLS
    | SUBMISSION_URLS
    | EVALUATION_URLS
    | PLAN_URLS
    | set(INDICATOR_PAGES)
    | {
        "indicators:my-data",
        "indicators:open",
        "indicators:review",
        "indicators:submission-scan",
        "indicators:submission-scan-upload",
        "indicators:targets",
        "api:target-status",
        "indicators:upload",
        "indicators:target-set",
    }
)


def url_names(patterns: list[Any], namespace: str = "") -> set[str]:
    names: set[str] = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            prefix = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= url_names(pattern.url_patterns, prefix)
        elif isinstance(pattern, URLPattern):
            names.add(f"{namespace}{pattern.name}")
    return names


def test_every_url_is_in_the_matrix() -> None:
    missing = url_names(get_resolver().url_patterns) - COVERED
    assert not missing, f"URLs without an authorization test: {sorted(missing)}"
