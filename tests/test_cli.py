"""The `kechuang` command line: orgunits, user and demo, through call_command and cli.main."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db import connections

from kechuang import cli
from kechuang.accounts import services as accounts
from kechuang.accounts.models import User
from kechuang.audit.models import LogEntry
from kechuang.core.models import Deployment
from kechuang.regions.choices import Level, UnitKind
from kechuang.regions.models import Department, OrgUnit, OrgUnitCode

ROOT = Path(__file__).resolve().parent.parent
CAST_PASSWORD = "Test-Passw0rd!"  # conftest.PASSWORD
STRONG = "Strong-Passw0rd!"
LOGIN_LINE = re.compile(r"^\s+(\S+)\s+密码 (\S+)\s+(\S+)\s+(\S+)$")


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def with_stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))


@pytest.fixture
def keep_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    """cli.main ends like a real process, closing every connection; the test's must survive."""
    monkeypatch.setattr(connections, "close_all", lambda: None)


def counts() -> dict[str, int]:
    return {
        "units": OrgUnit.objects.count(),
        "codes": OrgUnitCode.objects.count(),
        "users": User.objects.count(),
        "departments": Department.objects.count(),
    }


# ---------------------------------------------------------------- the program itself


def test_kechuang_help_runs_in_a_fresh_process():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "kechuang.test_settings"}
    result = subprocess.run(
        [sys.executable, "-m", "kechuang.cli", "help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "kechuang help <subcommand>" in result.stdout
    for command in ("orgunits", "user", "demo", "migrate"):
        assert re.search(rf"^\s+{command}$", result.stdout, re.MULTILINE), command


def test_serve_has_its_own_help(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["serve", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "启动网站服务" in out
    assert "--workers" in out


# ---------------------------------------------------------------- orgunits


def test_orgunits_load_builds_gansu_to_county_level(db):
    out = run("orgunits", "load", "--province", "62", "--no-townships")
    gansu = OrgUnit.objects.get(code="62")
    assert gansu.name == "甘肃省"
    assert gansu.level == Level.PROVINCE
    assert gansu.parent.code == "CN"
    in_gansu = OrgUnit.objects.current().filter(code__startswith="62")
    assert in_gansu.filter(level=Level.CITY).count() == 14
    assert in_gansu.administrative_counties().count() == 86
    assert in_gansu.filter(level=Level.COUNTY).count() == 88
    assert OrgUnit.objects.get(code="620171").kind == UnitKind.STATISTICAL  # 兰州新区
    assert OrgUnit.objects.get(code="620201").kind == UnitKind.CITY_PROPER  # 嘉峪关市
    assert not OrgUnit.objects.filter(level=Level.TOWNSHIP).exists()
    assert not OrgUnit.objects.exclude(code="CN").exclude(code__startswith="62").exists()
    jingchuan = OrgUnit.objects.get(code="620821")
    assert jingchuan.path.startswith(OrgUnit.objects.get(code="6208").path)
    assert jingchuan.full_name() == "平凉市泾川县"
    # One summary line: what was read and what changed.
    assert "载入 103 条区划" in out
    assert "新增 103 个" in out
    assert "撤销 0 个" in out
    entry = LogEntry.objects.get(action="regions.divisions.load")
    assert entry.actor_name == "系统"
    assert entry.channel == "cli"
    assert entry.request_id is not None
    assert entry.data["created"] == 103


def test_orgunits_load_twice_changes_nothing(db):
    run("orgunits", "load", "--province", "62", "--no-townships")
    before = counts()
    out = run("orgunits", "load", "--province", "62", "--no-townships")
    assert counts() == before
    assert "新增 0 个" in out
    assert "未变 103 个" in out


@pytest.mark.parametrize("province", ["99", "6", "62,99", "gs"])
def test_orgunits_load_of_an_unknown_province_fails_and_changes_nothing(db, province):
    with pytest.raises(CommandError) as caught:
        run("orgunits", "load", "--province", province)
    assert caught.value.returncode == 1
    assert OrgUnit.objects.count() == 0
    assert LogEntry.objects.count() == 0


def test_orgunits_failure_through_the_program_exits_1_without_a_traceback(
    db, capsys, keep_connections
):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["orgunits", "load", "--province", "99"])
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "CommandError" in err
    assert "99" in err
    assert "Traceback" not in err
    assert OrgUnit.objects.count() == 0


def test_orgunits_load_through_the_program(db, capsys, keep_connections):
    cli.main(["orgunits", "load", "--province", "62", "--no-townships"])
    assert "新增 103 个" in capsys.readouterr().out
    assert OrgUnit.objects.current().administrative_counties().count() == 86


# ---------------------------------------------------------------- user


def test_user_create_binds_the_user_to_the_unit(cast, monkeypatch):
    with_stdin(monkeypatch, STRONG + "\n")
    out = run(
        "user", "create", "newclerk", "--org", "620821", "--role", "clerk", "--password-stdin"
    )
    user = User.objects.get(username="newclerk")
    assert user.org_unit == cast.unit("jingchuan")
    assert user.role == "clerk"
    assert not user.is_superuser
    assert user.check_password(STRONG)
    assert authenticate(username="newclerk", password=STRONG) == user
    assert out.strip() == "已新增用户 newclerk（泾川县，填报员）"
    entry = LogEntry.objects.get(action="accounts.user.create", object_id=str(user.pk))
    assert entry.actor_name == "系统"
    assert entry.request_id is not None


def test_user_create_superuser_without_org_is_bound_to_the_nation(db, monkeypatch):
    with_stdin(monkeypatch, STRONG + "\n")
    run("user", "create", "operator", "--superuser", "--password-stdin")
    user = User.objects.get(username="operator")
    assert user.is_superuser
    assert user.role == "admin"
    assert user.org_unit.code == "CN"


@pytest.mark.parametrize("password", ["password123", "abcdefghij", "1234567890", ""])
def test_user_create_with_a_weak_password_fails_cleanly(cast, monkeypatch, password):
    with_stdin(monkeypatch, password + "\n")
    before = counts(), LogEntry.objects.count()
    with pytest.raises(CommandError) as caught:
        run("user", "create", "newclerk", "--org", "620821", "--password-stdin")
    assert caught.value.returncode == 1
    assert "密码" in str(caught.value)
    assert (counts(), LogEntry.objects.count()) == before


def test_user_create_weak_password_through_the_program(cast, monkeypatch, capsys, keep_connections):
    with_stdin(monkeypatch, "password123\n")
    with pytest.raises(SystemExit) as exit_:
        cli.main(["user", "create", "newclerk", "--org", "620821", "--password-stdin"])
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "密码不符合要求" in err
    assert "Traceback" not in err
    assert not User.objects.filter(username="newclerk").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org", "999999"], "没有在用的区划代码 999999"),
        ([], "--org"),
        (["--org", "620821", "--name", "x"], "已存在"),
    ],
)
def test_user_create_errors_are_one_line(cast, monkeypatch, args, message):
    with_stdin(monkeypatch, STRONG + "\n")
    username = "jingchuan_clerk" if "--name" in args else "newclerk"
    with pytest.raises(CommandError, match=re.escape(message)):
        run("user", "create", username, "--password-stdin", *args)


def test_user_create_asks_twice_without_stdin(cast, monkeypatch):
    answers = iter([STRONG, STRONG + "typo"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    with pytest.raises(CommandError, match="两次输入的密码不一致"):
        run("user", "create", "newclerk", "--org", "620821")
    assert not User.objects.filter(username="newclerk").exists()
    answers = iter([STRONG, STRONG])
    run("user", "create", "newclerk", "--org", "620821")
    assert User.objects.get(username="newclerk").check_password(STRONG)


def test_user_set_password_from_stdin(cast, monkeypatch):
    with_stdin(monkeypatch, STRONG + "\n")
    out = run("user", "set-password", "chongxin_admin", "--password-stdin")
    assert "chongxin_admin" in out
    assert authenticate(username="chongxin_admin", password=STRONG) is not None
    assert authenticate(username="chongxin_admin", password=CAST_PASSWORD) is None
    with_stdin(monkeypatch, STRONG + "\n")
    with pytest.raises(CommandError, match="没有用户 nobody"):
        run("user", "set-password", "nobody", "--password-stdin")


def test_user_token_prints_a_stable_40_character_token(cast):
    out = run("user", "token", "jingchuan_clerk")
    token = out.strip()
    assert re.fullmatch(r"[0-9a-f]{40}", token)
    assert run("user", "token", "jingchuan_clerk").strip() == token
    assert LogEntry.objects.filter(action="accounts.token.create").count() == 1
    with pytest.raises(CommandError, match="没有用户"):
        run("user", "token", "nobody")


def test_user_token_through_the_program_works_against_the_api(
    cast, capsys, keep_connections, client
):
    cli.main(["user", "token", "jingchuan_admin"])
    token = capsys.readouterr().out.strip()
    assert len(token) == 40
    response = client.get("/api/v1/accounts/users/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200
    names = {row["username"] for row in response.json()["results"]}
    assert "chengguan_town_clerk" in names
    assert "chongxin_clerk" not in names


# ---------------------------------------------------------------- demo


def demo_logins(out: str) -> list[tuple[str, str, str, str]]:
    return [m.groups() for line in out.splitlines() if (m := LOGIN_LINE.match(line))]


def test_demo_county_loads_the_county_cast(db):
    out = run("demo", "--scale", "county")
    codes = set(OrgUnit.objects.current().values_list("code", flat=True))
    assert {"CN", "62", "6208", "620821", "620823"} <= codes
    assert "6201" not in codes  # 兰州市 is not part of the county demo
    assert OrgUnit.objects.filter(level=Level.COUNTY).count() == 2
    townships = OrgUnit.objects.filter(level=Level.TOWNSHIP)
    assert townships.exists()
    jingchuan, chongxin = OrgUnit.objects.get(code="620821"), OrgUnit.objects.get(code="620823")
    assert all(t.path.startswith((jingchuan.path, chongxin.path)) for t in townships)

    users = User.objects.all()
    assert users.count() == 10
    assert all(u.is_demo for u in users)
    assert User.objects.get(username="jingchuan_clerk").org_unit == jingchuan
    assert User.objects.get(username="chongxin_clerk").org_unit == chongxin
    assert not users.filter(is_superuser=True).exists()

    departments = Department.objects.all()
    assert departments.count() == 8 * 4  # 省, 市 and the two counties
    assert all(d.is_demo for d in departments)
    assert Department.objects.filter(org_unit=jingchuan, name="泾川县科学技术局").exists()
    assert Department.objects.filter(org_unit__code="62", name="甘肃省科学技术厅").exists()

    deployment = Deployment.current()
    assert deployment.pk == 1
    assert deployment.has_demo_data is True
    assert deployment.demo_scale == "county"
    assert "示例数据（county）已就绪" in out
    assert LogEntry.objects.filter(action="demo.load").count() == 1


def test_demo_logins_printed_actually_authenticate(db):
    logins = demo_logins(run("demo", "--scale", "county"))
    assert len(logins) == 10
    for username, password, role_label, unit in logins:
        user = authenticate(username=username, password=password)
        assert user is not None, username
        assert user.get_role_display() == role_label
        assert unit.endswith(user.org_unit.name)


def test_demo_twice_is_idempotent(db):
    first_out = run("demo", "--scale", "county")
    first = counts()
    second_out = run("demo", "--scale", "county")
    assert counts() == first
    assert demo_logins(second_out) == demo_logins(first_out)
    assert Deployment.objects.count() == 1
    assert Deployment.current().has_demo_data is True


def test_demo_again_restores_changed_demo_logins(db):
    run("demo", "--scale", "county")
    clerk = User.objects.get(username="jingchuan_clerk")
    accounts.set_password(clerk, actor=None, password=STRONG)
    accounts.update_user(clerk, actor=None, role="leader", is_active=False)
    logins = {u: p for u, p, _r, _n in demo_logins(run("demo", "--scale", "county"))}
    clerk.refresh_from_db()
    assert clerk.role == "clerk"
    assert clerk.is_active
    assert authenticate(username="jingchuan_clerk", password=logins["jingchuan_clerk"]) == clerk


def test_demo_leaves_real_users_with_a_demo_name_alone(db):
    run("orgunits", "load", "--province", "62", "--no-townships")
    real = {
        name: accounts.create_user(
            actor=None, username=name, password=STRONG, org_unit=OrgUnit.objects.get(code=code)
        )
        for name, code in (("jingchuan_clerk", "620821"), ("Gansu_Admin", "62"))
    }
    logins = demo_logins(run("demo", "--scale", "county"))
    for user in real.values():
        user.refresh_from_db()
        assert not user.is_demo
        assert user.role == "clerk"
        assert user.check_password(STRONG)
    assert User.objects.filter(username__iexact="gansu_admin").count() == 1
    # Only logins that work are printed.
    printed = {username for username, *_rest in logins}
    assert len(printed) == 8
    assert printed.isdisjoint({"jingchuan_clerk", "gansu_admin"})
    for username, password, _role, _unit in logins:
        assert authenticate(username=username, password=password) is not None, username


def test_demo_with_every_demo_name_taken_prints_no_logins(cast):
    before = {u.pk: u.password for u in User.objects.all()}
    out = run("demo", "--scale", "county")
    assert "示例数据（county）已就绪" in out
    assert demo_logins(out) == []
    assert {u.pk: u.password for u in User.objects.all()} == before
    assert not User.objects.filter(is_demo=True).exists()
    assert LogEntry.objects.get(action="demo.load").data["users"] == []


def test_demo_through_the_program(db, capsys, keep_connections):
    cli.main(["demo", "--scale", "county"])
    out = capsys.readouterr().out
    assert len(demo_logins(out)) == 10
    assert Deployment.current().has_demo_data


def test_demo_scale_is_checked_by_the_parser(db, capsys, keep_connections):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["demo", "--scale", "city"])
    assert exit_.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
    assert not Deployment.objects.exists()


def test_a_refused_password_says_why_on_the_command_line(db, monkeypatch):
    call_command("orgunits", "load", "--province", "62", "--no-townships")
    monkeypatch.setattr(sys, "stdin", io.StringIO("1234567890\n"))
    with pytest.raises(CommandError) as raised:
        call_command("user", "create", "weakling", "--org", "620821", "--password-stdin")
    assert "密码不符合要求" in str(raised.value)
    assert "数字" in str(raised.value) or "常见" in str(raised.value)


@pytest.mark.parametrize("command", ["createsuperuser", "changepassword"])
def test_djangos_unaudited_user_commands_point_to_kechuang_user(db, command):
    with pytest.raises(CommandError, match="kechuang user"):
        call_command(command)
