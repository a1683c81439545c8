"""The audit log page and its CSV export: who may look, what they see, and the filters."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.apps import apps
from django.test import Client
from django.utils import timezone

from kechuang.audit import services as audit
from kechuang.audit.models import LogEntry

PROBE = "test.probe"
HEADER = [
    "时间",
    "操作人",
    "单位",
    "单位代码",
    "操作代码",
    "操作",
    "对象类型",
    "对象编号",
    "对象",
    "修改前",
    "修改后",
    "其他信息",
    "请求编号",
]


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def probe_all_units(cast) -> None:
    for key, unit in cast.units.items():
        audit.record(None, PROBE, unit, object_repr=f"探针-{key}")


def add_department(actor, unit, name: str):
    """A department and its log entry as regions.services writes them.

    Built here because audit sits below regions and may not import it.
    """
    department = apps.get_model("regions", "Department").objects.create(org_unit=unit, name=name)
    fields = ("org_unit", "name", "short_name", "is_active")
    audit.record(
        actor, "regions.department.create", department, after=audit.snapshot(department, fields)
    )
    return department


def export(user, **params) -> tuple[str, list[dict[str, str]]]:
    response = client_for(user).get("/audit/export.csv", params)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-log-')
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == HEADER
    return text, [dict(zip(HEADER, row, strict=True)) for row in rows[1:]]


def set_time(entry: LogEntry, *args: int) -> None:
    moment = timezone.make_aware(datetime.datetime(*args))  # Asia/Shanghai
    LogEntry.objects.filter(pk=entry.pk).update(time=moment)


# ---------------------------------------------------------------- who may look


@pytest.mark.parametrize("url", ["/audit/", "/audit/export.csv"])
@pytest.mark.parametrize("role", ["clerk", "leader"])
def test_clerks_and_leaders_are_refused(cast, url, role):
    response = client_for(cast.user("jingchuan", role)).get(url)
    assert response.status_code == 403


@pytest.mark.parametrize("url", ["/audit/", "/audit/export.csv"])
@pytest.mark.parametrize("role", ["admin", "reviewer"])
def test_admins_and_reviewers_may_look(cast, url, role):
    assert client_for(cast.user("jingchuan", role)).get(url).status_code == 200


@pytest.mark.parametrize("url", ["/audit/", "/audit/export.csv"])
def test_anonymous_visitors_are_sent_to_log_in(db, url):
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/audit/")


def test_a_deactivated_reviewer_is_refused(cast):
    reviewer = cast.user("jingchuan", "reviewer")
    client = client_for(reviewer)
    reviewer.is_active = False
    reviewer.save()
    response = client.get("/audit/export.csv")
    # The authentication backend drops an inactive user's session: back to the login page.
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# ---------------------------------------------------------------- the page


def test_page_lists_the_subtree_only(cast):
    probe_all_units(cast)
    html = client_for(cast.user("jingchuan", "admin")).get("/audit/").content.decode()
    assert "审计日志" in html
    assert "探针-jingchuan" in html
    assert "探针-chengguan_town" in html
    for other in ("chongxin", "pingliang", "lanzhou", "gansu", "chengguan_district"):
        assert f"探针-{other}" not in html


def test_page_shows_labels_and_honours_q(cast):
    probe_all_units(cast)
    client = client_for(cast.user("pingliang", "reviewer"))
    html = client.get("/audit/", {"action": "accounts.user.create"}).content.decode()
    assert "新增用户" in html
    assert "探针" not in html
    html = client.get("/audit/", {"q": "探针-chongxin"}).content.decode()
    assert "探针-chongxin" in html
    assert "探针-jingchuan" not in html


def test_page_shows_an_empty_result_politely(cast):
    html = client_for(cast.user("jingchuan", "admin")).get("/audit/", {"q": "没有这个"})
    assert "没有符合条件的记录" in html.content.decode()


# ---------------------------------------------------------------- the CSV


def test_csv_has_bom_chinese_header_and_only_the_subtree(cast):
    probe_all_units(cast)
    text, rows = export(cast.user("pingliang", "reviewer"))
    assert text.startswith("\ufeff时间,操作人,单位,单位代码,操作代码,操作,")
    codes = {row["单位代码"] for row in rows}
    assert codes == {"6208", "620821", "620823", "620821100"}
    probes = {row["对象"] for row in rows if row["操作代码"] == PROBE}
    assert probes == {"探针-pingliang", "探针-jingchuan", "探针-chongxin", "探针-chengguan_town"}
    visible = LogEntry.objects.visible_to(cast.user("pingliang", "reviewer")).count()
    assert len(rows) == visible


def test_csv_rows_carry_the_entry(cast):
    admin = cast.user("jingchuan", "admin")
    department = add_department(admin, cast.unit("chengguan_town"), "城关镇农业服务中心")
    _text, rows = export(admin, action="regions.department.create")
    [row] = rows
    assert row["操作人"] == "jingchuan_admin（jingchuan admin）"
    assert row["单位"] == "城关镇"
    assert row["单位代码"] == "620821100"
    assert row["操作"] == "新增部门"
    assert row["对象类型"] == "regions.department"
    assert row["对象编号"] == str(department.pk)
    assert row["对象"] == "城关镇农业服务中心"
    assert row["修改前"] == ""
    assert '"name": "城关镇农业服务中心"' in row["修改后"]
    exported = datetime.datetime.fromisoformat(row["时间"])
    assert exported.utcoffset() == datetime.timedelta(hours=8)


def test_csv_filters_by_action_prefix(cast):
    probe_all_units(cast)
    _text, rows = export(cast.user("pingliang", "admin"), action="accounts.user")
    assert rows
    assert {row["操作代码"] for row in rows} == {"accounts.user.create"}


def test_csv_filters_by_unit_subtree(cast):
    probe_all_units(cast)
    reviewer = cast.user("pingliang", "reviewer")
    _text, rows = export(reviewer, unit="620821", action=PROBE)
    assert {row["单位代码"] for row in rows} == {"620821", "620821100"}
    # A unit outside the viewer's tree yields nothing rather than its rows.
    assert export(reviewer, unit="6201")[1] == []
    assert export(reviewer, unit="62")[1] == []
    assert export(reviewer, unit="999999")[1] == []


def test_csv_filters_by_local_calendar_days(cast):
    unit = cast.unit("jingchuan")
    days = {
        "before": (2025, 2, 28, 23, 59),
        "start": (2025, 3, 1, 0, 0),
        "end": (2025, 3, 1, 23, 59, 59),
        "after": (2025, 3, 2, 0, 0),
    }
    for name, moment in days.items():
        set_time(audit.record(None, PROBE, unit, object_repr=f"时刻-{name}"), *moment)
    admin = cast.user("jingchuan", "admin")

    def probes(**params) -> set[str]:
        _text, rows = export(admin, action=PROBE, **params)
        return {row["对象"].removeprefix("时刻-") for row in rows}

    assert probes(since="2025-03-01", until="2025-03-01") == {"start", "end"}
    assert probes(since="2025-03-01") == {"start", "end", "after"}
    assert probes(until="2025-03-01") == {"before", "start", "end"}
    # A date that is not one is ignored, not an error.
    assert probes(since="2025-13-01") == set(days)


def test_csv_filters_by_text_in_object_or_actor(cast):
    probe_all_units(cast)
    admin = cast.user("pingliang", "admin")
    add_department(admin, cast.unit("jingchuan"), "泾川县统计局")
    _text, rows = export(admin, q="探针-jing")
    assert [row["对象"] for row in rows] == ["探针-jingchuan"]
    _text, rows = export(admin, q="pingliang_admin")
    assert [row["对象"] for row in rows] == ["泾川县统计局"]
    # The text filter never widens the scope.
    assert export(cast.user("jingchuan", "admin"), q="探针-chongxin")[1] == []


def test_csv_combines_filters(cast):
    probe_all_units(cast)
    _text, rows = export(
        cast.user("gansu", "reviewer"), action="accounts.user.create", unit="620823", q="chongxin"
    )
    assert len(rows) == 4  # 崇信县's four cast users
    assert {row["单位"] for row in rows} == {"崇信县"}


def test_csv_neutralises_spreadsheet_formulas(cast):
    # A county admin names a user like a formula; the province's auditor opens the export.
    admin = cast.user("jingchuan", "admin")
    formula = '=HYPERLINK("http://evil.example.com","点此查看")'
    clerk = cast.user("jingchuan", "clerk")
    before = audit.snapshot(clerk, ("display_name",))
    clerk.display_name = formula
    clerk.save()
    after = audit.snapshot(clerk, ("display_name",))
    audit.record(admin, "accounts.user.update", clerk, **audit.changes(before, after))
    for name in ("+1+2", "-3", "@SUM(A1)", "\t=1"):
        audit.record(admin, PROBE, cast.unit("jingchuan"), object_repr=name)
    _text, rows = export(cast.user("gansu", "reviewer"), unit="620821", since="2000-01-01")
    suspicious = [row for row in rows if row["操作代码"] in (PROBE, "accounts.user.update")]
    assert len(suspicious) == 5
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t")), value
    update = next(row for row in rows if row["操作代码"] == "accounts.user.update")
    assert update["对象"] == "'" + formula


def test_the_log_shows_changes_with_field_names_and_choice_labels(cast):
    from kechuang.accounts import services as accounts

    admin = cast.user("pingliang", "admin")
    clerk = cast.user("jingchuan", "clerk")
    accounts.update_user(clerk, actor=admin, role="reviewer", org_unit=cast.unit("chongxin"))
    page = client_for(admin).get("/audit/", {"action": "accounts.user.update"}).content.decode()
    assert "角色" in page
    assert "<del>填报员</del> → <ins>审核员</ins>" in page
    assert "<del>泾川县</del> → <ins>崇信县</ins>" in page
