"""Demo data: the real division tree plus synthetic departments and users, labelled 示例数据.

Three scales (``kechuang demo --scale``):
- county: 甘肃省 > 平凉市 > 泾川县 and 崇信县 with their townships (a quick look);
- province: all of 甘肃省 (14 prefecture-level, 86 county-level units, townships);
- national: every province, county and township in the division data.

Running it again changes nothing but resets the demo users' passwords, so
the logins printed by `make run` always work. Departments and users are
synthetic and flagged ``is_demo``; the deployment shows a 示例数据 banner.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction

from kechuang.accounts.models import User
from kechuang.audit import services as audit
from kechuang.core.authorization import Role
from kechuang.core.models import Deployment
from kechuang.demo.indicator_data import load_indicator_demo
from kechuang.demo.plan_data import load_plan_demo
from kechuang.evaluation.choices import Source
from kechuang.evaluation.models import AssessmentScheme, Methodology
from kechuang.evaluation.services import assessment, methodologies, runs
from kechuang.regions import services as regions
from kechuang.regions.choices import Level, UnitKind
from kechuang.regions.divisions import SHIPPED_EDITION, Division, read_divisions
from kechuang.regions.models import Department, OrgUnit

SCALES = ("county", "province", "national")
DEMO_PASSWORD = "Kechuang@2026"
PROVINCE, CITY, COUNTY, SIBLING = "62", "6208", "620821", "620823"

# (username, unit code, role, display name): a small named cast, as the tests use.
CAST = (
    ("gansu_admin", PROVINCE, Role.ADMINISTRATOR, "省管理员（示例）"),
    ("gansu_reviewer", PROVINCE, Role.REVIEWER, "省审核员（示例）"),
    ("gansu_leader", PROVINCE, Role.LEADER, "省领导（示例）"),
    ("pingliang_admin", CITY, Role.ADMINISTRATOR, "市管理员（示例）"),
    ("pingliang_reviewer", CITY, Role.REVIEWER, "市审核员（示例）"),
    ("pingliang_leader", CITY, Role.LEADER, "市领导（示例）"),
    ("jingchuan_admin", COUNTY, Role.ADMINISTRATOR, "泾川县管理员（示例）"),
    ("jingchuan_clerk", COUNTY, Role.CLERK, "泾川县填报员（示例）"),
    ("jingchuan_leader", COUNTY, Role.LEADER, "泾川县领导（示例）"),
    ("chongxin_clerk", SIBLING, Role.CLERK, "崇信县填报员（示例）"),
)
NATIONAL_CAST = (("national_admin", regions.NATION_CODE, Role.ADMINISTRATOR, "全国管理员（示例）"),)

# Departments that own tasks in the seed plans, by level (厅 at the province, 局 below).
PROVINCE_DEPARTMENTS = (
    "科学技术厅",
    "财政厅",
    "发展和改革委员会",
    "工业和信息化厅",
    "教育厅",
    "农业农村厅",
    "人力资源和社会保障厅",
    "统计局",
)
LOCAL_DEPARTMENTS = (
    "科学技术局",
    "财政局",
    "发展和改革局",
    "工业和信息化局",
    "教育局",
    "农业农村局",
    "人力资源和社会保障局",
    "统计局",
)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    unit: str


def demo_divisions(scale: str) -> list[Division]:
    if scale not in SCALES:
        raise ValueError(f"未知规模 {scale}，可选：{'、'.join(SCALES)}")
    if scale == "national":
        return read_divisions()
    divisions = read_divisions(provinces=[PROVINCE])
    if scale == "province":
        return divisions
    keep = (COUNTY, SIBLING)
    return [
        d
        for d in divisions
        if d.code in (PROVINCE, CITY) or any(d.code.startswith(k) for k in keep)
    ]


# The last year whose demo submissions are all approved (2025 is mid-season).
INDEX_YEAR = 2024


def _ensure_index_runs(scale: str) -> int:
    """The shipped methodologies and a ranking of each over the demo's scope.

    Also the shipped assessment schemes and one round of each over the demo
    province: titles and the responsibility assessment are the province's
    business at every scale.
    """
    methodologies.ensure_shipped(actor=None)
    within = regions.ensure_nation() if scale == "national" else OrgUnit.objects.get(code=PROVINCE)
    computed = 0
    for methodology in Methodology.objects.filter(is_active=True):
        _run, new = runs.compute(methodology, INDEX_YEAR, within=within, actor=None)
        computed += new
    assessment.ensure_shipped_schemes(actor=None)
    province = OrgUnit.objects.get(code=PROVINCE)
    for scheme in AssessmentScheme.objects.filter(is_active=True, source=Source.SHIPPED):
        if not _has_candidates(scheme, province):
            continue  # the demo has no township data: 创新型乡镇 has nobody to assess
        _round, new = assessment.assess(scheme, INDEX_YEAR, within=province, actor=None)
        computed += new
    return computed


def _has_candidates(scheme: AssessmentScheme, within: OrgUnit) -> bool:
    inputs = assessment.read_inputs(scheme.parsed(), within, scheme.level, INDEX_YEAR)
    return bool(inputs.unit_codes)


@transaction.atomic
def load_demo(
    scale: str, *, progress: Callable[[int, int], Any] | None = None, refresh: bool = False
) -> list[DemoLogin]:
    """Load the demo at ``scale`` (idempotent) and return the logins to print."""
    divisions = demo_divisions(scale)
    # Demo loads never retire anything: a smaller scale after a bigger one keeps the rest.
    report = regions.load_divisions(
        divisions, edition=SHIPPED_EDITION, retire_missing=False, progress=progress
    )
    departments = _ensure_departments(scale)
    cast = CAST + (NATIONAL_CAST if scale == "national" else ())
    # One hash for all demo accounts: their password is printed on screen anyway, and
    # hashing it once instead of ten times saves seconds on every `make run`.
    password_hash = make_password(DEMO_PASSWORD)
    logins = [
        login
        for member in cast
        if (login := _ensure_user(*member, password_hash=password_hash)) is not None
    ]
    indicator_report = load_indicator_demo(
        None if scale == "national" else PROVINCE, refresh=refresh
    )
    index_runs = _ensure_index_runs(scale)
    plans = load_plan_demo()
    deployment = Deployment.current()
    deployment.has_demo_data = True
    # The largest scale loaded so far names the deployment.
    if SCALES.index(scale) >= SCALES.index(deployment.demo_scale or "county"):
        deployment.demo_scale = scale
    deployment.divisions_edition = SHIPPED_EDITION
    deployment.save()
    audit.record(
        None,
        "demo.load",
        None,
        org_unit=regions.ensure_nation(),
        object_repr=f"示例数据（{scale}）",
        data={
            "scale": scale,
            "units_created": report.created,
            "departments_created": departments,
            "indicator_data": indicator_report.__dict__,
            "index_runs": index_runs,
            "plans": plans,
            "users": [login.username for login in logins],
        },
    )
    return logins


def _ensure_departments(scale: str) -> int:
    """Synthetic departments for the province and every administrative city and county."""
    units = OrgUnit.objects.current().filter(
        level__in=(Level.PROVINCE, Level.CITY, Level.COUNTY), kind=UnitKind.ADMINISTRATIVE
    )
    if scale != "national":
        units = units.filter(code__startswith=PROVINCE)
    existing = set(Department.objects.values_list("org_unit_id", "name"))
    new = []
    for unit_id, name, level in units.values_list("id", "name", "level"):
        names = PROVINCE_DEPARTMENTS if level == Level.PROVINCE else LOCAL_DEPARTMENTS
        short_prefix = {Level.PROVINCE: "省", Level.CITY: "市", Level.COUNTY: "县"}[level]
        for dept in names:
            full = f"{name}{dept}"
            if (unit_id, full) not in existing:
                short = short_prefix + dept.replace("科学技术", "科技").replace("和", "")[:4]
                new.append(
                    Department(org_unit_id=unit_id, name=full, short_name=short, is_demo=True)
                )
    Department.objects.bulk_create(new, batch_size=2000)
    return len(new)


def _ensure_user(
    username: str, code: str, role: str, name: str, password_hash: str
) -> DemoLogin | None:
    unit = OrgUnit.objects.current().get(code=code)
    user = User.objects.filter(username__iexact=username).first()
    if user is None:
        user = User(
            username=username,
            org_unit=unit,
            role=role,
            display_name=name,
            is_demo=True,
            is_superuser=False,
        )
        user.password = password_hash
        user.save()
        audit.record(
            None,
            "accounts.user.create",
            user,
            data={"demo": True},
            after=audit.snapshot(user, ("username", "org_unit", "role")),
        )
    elif user.is_demo:
        # Keep the printed logins working even if a demo user changed them.
        user.org_unit, user.role, user.is_active = unit, role, True
        user.password = password_hash
        user.save()
    else:
        # A real account holds the name: it keeps its password, so printing the
        # demo password for it would be a login that does not work.
        return None
    return DemoLogin(username, DEMO_PASSWORD, Role(role).label, unit.full_name())
