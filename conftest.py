"""The named cast every test can use (Zulip's Shakespeare users, in Gansu).

    全国
    └── 甘肃省 62                     province
        ├── 平凉市 6208                city
        │   ├── 泾川县 620821          county   ← "own" unit in most scope tests
        │   │   └── 城关镇 620821100   township ← "child"
        │   └── 崇信县 620823          county   ← "sibling"
        └── 兰州市 6201                city     ← a sibling city
            ├── 城关区 620102          county
            └── 兰州新区 620171        statistical-only zone

Each of 甘肃省, 平凉市, 泾川县, 崇信县 and 城关镇 has one user per role:
``cast.user("jingchuan", "clerk")`` and so on. Built through the real services.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import pytest

# Playwright's sync API runs an event loop in the test thread; Django must allow ORM use there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "Test-Passw0rd!"

UNIT_CODES = {
    "gansu": "62",
    "pingliang": "6208",
    "jingchuan": "620821",
    "chengguan_town": "620821100",
    "chongxin": "620823",
    "lanzhou": "6201",
    "chengguan_district": "620102",
    "lanzhou_new_area": "620171",
}
STAFFED_UNITS = ("gansu", "pingliang", "jingchuan", "chongxin", "chengguan_town")
ROLES = ("clerk", "reviewer", "leader", "admin")


@dataclass
class Cast:
    units: dict[str, Any] = field(default_factory=dict)
    users: dict[tuple[str, str], Any] = field(default_factory=dict)

    def unit(self, key: str) -> Any:
        return self.units[key]

    def user(self, unit_key: str, role: str) -> Any:
        return self.users[(unit_key, role)]


def cast_divisions() -> list[Any]:
    from kechuang.regions.choices import Level, UnitKind
    from kechuang.regions.divisions import Division

    a, s = UnitKind.ADMINISTRATIVE, UnitKind.STATISTICAL
    return [
        Division("62", "甘肃省", Level.PROVINCE, None, a),
        Division("6201", "兰州市", Level.CITY, "62", a),
        Division("6208", "平凉市", Level.CITY, "62", a),
        Division("620102", "城关区", Level.COUNTY, "6201", a),
        Division("620171", "兰州新区", Level.COUNTY, "6201", s),
        Division("620821", "泾川县", Level.COUNTY, "6208", a),
        Division("620823", "崇信县", Level.COUNTY, "6208", a),
        Division("620821100", "城关镇", Level.TOWNSHIP, "620821", a),
    ]


def build_cast() -> Cast:
    from kechuang.accounts import services as accounts
    from kechuang.regions import services as regions
    from kechuang.regions.models import OrgUnit

    regions.load_divisions(cast_divisions(), edition="国家统计局 测试版")
    cast = Cast()
    for key, code in UNIT_CODES.items():
        cast.units[key] = OrgUnit.objects.get(code=code)
    for key in STAFFED_UNITS:
        for role in ROLES:
            cast.users[(key, role)] = accounts.create_user(
                actor=None,
                username=f"{key}_{role}",
                password=PASSWORD,
                org_unit=cast.units[key],
                role=role,
                display_name=f"{key} {role}",
            )
    return cast


@pytest.fixture
def cast(db: Any) -> Cast:
    return build_cast()


@pytest.fixture
def superuser(cast: Cast) -> Any:
    from kechuang.accounts import services as accounts
    from kechuang.regions.services import ensure_nation

    return accounts.create_user(
        actor=None,
        username="operator",
        password=PASSWORD,
        org_unit=ensure_nation(),
        role="admin",
        is_superuser=True,
    )


# ---------------------------------------------------------------- real browser (Playwright)

CHROMIUM = "/usr/bin/chromium"  # Debian's chromium; Playwright never downloads a browser here
ARTIFACTS = os.path.join(os.path.dirname(__file__), "test-artifacts")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture
def artifacts() -> str:
    """Where page tests leave their screenshots (kept by CI as test artifacts)."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    return ARTIFACTS
