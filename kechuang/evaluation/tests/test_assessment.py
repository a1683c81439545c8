"""Assessment schemes and rounds on the platform's data: service, command, pages, demo."""

from __future__ import annotations

import io
import math
from typing import Any

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD
from kechuang.accounts import services as accounts
from kechuang.audit.models import LogEntry
from kechuang.core.errors import Forbidden, InvalidInput, NotFound
from kechuang.evaluation.models import AssessmentOutcome, AssessmentRound, AssessmentScheme
from kechuang.evaluation.services import assessment
from kechuang.indicators import services as indicators
from kechuang.indicators.models import DataValue, Target
from kechuang.indicators.services import ValueChange
from kechuang.indicators.services.rollup import rollup
from kechuang.indicators.services.targets import target_status
from kechuang.indicators.tests.conftest import build_catalogue

pytestmark = pytest.mark.django_db
YEAR = 2024


@pytest.fixture
def schemes(shipped: Any) -> dict[str, AssessmentScheme]:
    return {s.code: s for s in assessment.load_schemes(actor=None)}


def shipped_rules(code: str) -> dict[str, Any]:
    data = yaml.safe_load(assessment.SHIPPED.read_text(encoding="utf-8"))
    return next(s for s in data["schemes"] if s["code"] == code)["rules"]


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def outsider(cast: Any) -> Any:
    return accounts.create_user(
        actor=None,
        username="lanzhou_clerk",
        password=PASSWORD,
        org_unit=cast.unit("lanzhou"),
        role="clerk",
    )


# ---------------------------------------------------------------- the arithmetic, independently


def linear(x: float, lower: float, upper: float, weight: float) -> float:
    share = (x - lower) / (upper - lower)
    return weight * (0.0 if share < 0 else 1.0 if share > 1 else share)


def steps(x: float, table: list[list[float]]) -> float:
    points = 0.0
    for threshold, value in table:
        if x >= threshold:
            points = value
    return points


def expected_points(rules: dict[str, Any], unit: Any, year: int) -> tuple[bool, dict[str, float]]:
    """Eligibility and each criterion's points, from the rule text and rolled-up values."""
    codes = {c["indicator"] for c in rules["conditions"]}
    codes |= {c["indicator"] for c in rules["criteria"] if "indicator" in c}
    values = rollup(sorted(codes), unit, year)
    tests = {">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b}
    eligible = all(
        values[c["indicator"]] is not None
        and tests[c["comparator"]](values[c["indicator"]], c["threshold"])
        for c in rules["conditions"]
    )
    points = {}
    for item in rules["criteria"]:
        x = values[item["indicator"]]
        if x is None:
            points[item["code"]] = 0.0
        elif item["rule"] == "linear":
            points[item["code"]] = linear(x, item["lower"], item["upper"], item["weight"])
        else:
            points[item["code"]] = steps(x, item["steps"])
    return eligible, points


# ---------------------------------------------------------------- the service


def test_a_round_scores_a_county_as_the_rules_say(schemes, cast) -> None:
    scheme = schemes["INNOVATIVE_COUNTY"]
    round_, new = assessment.assess(
        scheme, YEAR, within=cast.unit("gansu"), actor=cast.user("gansu", "admin")
    )
    assert new
    assert round_.is_demo
    outcomes = {o.org_unit.code: o for o in round_.outcomes.select_related("org_unit")}
    # 兰州新区 (a statistical zone without data) is not a candidate.
    assert set(outcomes) == {"620821", "620823", "620102"}
    chongxin = outcomes["620823"]
    eligible, points = expected_points(
        shipped_rules("INNOVATIVE_COUNTY"), cast.unit("chongxin"), YEAR
    )
    assert chongxin.eligible is eligible
    stored = {c["code"]: c["points"] for c in chongxin.evidence["criteria"]}
    assert stored == pytest.approx(points, abs=1e-9)
    assert chongxin.total == pytest.approx(math.fsum(points.values()), abs=1e-8)
    assert chongxin.percent == pytest.approx(chongxin.total)  # the scheme's full marks are 100
    ranked = sorted((o for o in outcomes.values() if o.eligible), key=lambda o: -o.total)
    assert [o.rank for o in ranked] == list(range(1, len(ranked) + 1))
    assert round_.shortlisted == sum(o.shortlisted for o in outcomes.values())
    entry = LogEntry.objects.get(action="evaluation.assessment.run")
    assert entry.after["data_digest"] == round_.data_digest
    assert entry.org_unit == cast.unit("gansu")


def test_the_evidence_lists_every_condition_and_criterion(schemes, cast) -> None:
    scheme = schemes["INNOVATIVE_COUNTY"]
    round_, _new = assessment.assess(scheme, YEAR, within=cast.unit("gansu"), actor=None)
    rules = shipped_rules("INNOVATIVE_COUNTY")
    for outcome in round_.outcomes.all():
        conditions = outcome.evidence["conditions"]
        assert [c["indicator"] for c in conditions] == [c["indicator"] for c in rules["conditions"]]
        assert all(set(c) >= {"value", "threshold", "passed", "reason"} for c in conditions)
        criteria = outcome.evidence["criteria"]
        assert [c["code"] for c in criteria] == [c["code"] for c in rules["criteria"]]
        assert all(set(c) >= {"value", "points", "weight"} for c in criteria)
        assert outcome.eligible == all(c["passed"] for c in conditions)


def test_a_rerun_on_the_same_data_returns_the_same_round(schemes, cast) -> None:
    scheme = schemes["INNOVATIVE_COUNTY"]
    first, _ = assessment.assess(scheme, YEAR, within=cast.unit("gansu"), actor=None)
    again, new = assessment.assess(scheme, YEAR, within=cast.unit("gansu"), actor=None)
    assert (again.pk, new) == (first.pk, False)
    assert LogEntry.objects.filter(action="evaluation.assessment.run").count() == 1
    cell = DataValue.objects.get(
        org_unit=cast.unit("jingchuan"),
        year=YEAR,
        indicator__code="TECH_SME",
        submission__status="approved",
    )
    cell.value += 25
    cell.save()
    changed, new = assessment.assess(scheme, YEAR, within=cast.unit("gansu"), actor=None)
    assert new
    assert changed.data_digest != first.data_digest
    # The first round keeps what it showed.
    before = first.outcomes.get(org_unit=cast.unit("jingchuan"))
    after = changed.outcomes.get(org_unit=cast.unit("jingchuan"))
    assert after.total > before.total


def test_who_may_run_a_round(schemes, cast) -> None:
    scheme = schemes["INNOVATIVE_COUNTY"]
    for role in ("clerk", "reviewer"):
        with pytest.raises(Forbidden):
            assessment.assess(
                scheme, YEAR, within=cast.unit("pingliang"), actor=cast.user("pingliang", role)
            )
    with pytest.raises(InvalidInput, match="评价层级"):
        assessment.assess(
            scheme, YEAR, within=cast.unit("jingchuan"), actor=cast.user("jingchuan", "leader")
        )
    # Nobody runs a round over a scope above or beside their own.
    with pytest.raises(NotFound):
        assessment.assess(
            scheme, YEAR, within=cast.unit("gansu"), actor=cast.user("pingliang", "leader")
        )
    assert not AssessmentRound.objects.exists()
    assert not LogEntry.objects.filter(action="evaluation.assessment.run").exists()
    round_, _ = assessment.assess(
        scheme, YEAR, within=cast.unit("pingliang"), actor=cast.user("pingliang", "leader")
    )
    assert set(round_.outcomes.values_list("org_unit__code", flat=True)) == {"620821", "620823"}
    with pytest.raises(InvalidInput, match=r"没有.*已审定的数据"):
        assessment.assess(scheme, 1990, within=cast.unit("gansu"), actor=None)


def test_the_leadership_scheme_reads_target_completions(schemes, cast) -> None:
    scheme = schemes["LEADERSHIP_RESPONSIBILITY"]
    round_, _ = assessment.assess(scheme, YEAR, within=cast.unit("gansu"), actor=None)
    unit = cast.unit("jingchuan")
    statuses = target_status(Target.objects.filter(org_unit=unit, year=YEAR))
    assert statuses, "the demo sets 泾川县's targets for the year"
    capped = {
        s.target.indicator.code: min(max(s.completion, 0.0), 1.0)
        for s in statuses
        if s.completion is not None
    }
    mean = sum(capped.values()) / len(capped)
    criteria = {c["code"]: c for c in round_.outcomes.get(org_unit=unit).evidence["criteria"]}
    assert criteria["TARGETS"]["value"] == pytest.approx(mean)
    assert criteria["TARGETS"]["points"] == pytest.approx(50 * mean)
    assert f"{len(statuses)} 项目标" in criteria["TARGETS"]["note"]
    assert criteria["TARGET_RD_EXP"]["value"] == pytest.approx(capped["RD_EXP"])
    assert criteria["TARGET_RD_EXP"]["points"] == pytest.approx(10 * capped["RD_EXP"])
    assert criteria["TARGET_GOV_ST_EXP"]["source"] == "target"


def test_the_township_scheme_says_there_is_no_township_data(schemes, cast) -> None:
    with pytest.raises(InvalidInput, match="乡镇（街道）没有2024年已审定的数据"):
        assessment.assess(
            schemes["INNOVATIVE_TOWNSHIP"], YEAR, within=cast.unit("gansu"), actor=None
        )
    assert not AssessmentRound.objects.exists()


def test_townships_are_assessed_on_their_own_approved_values(cast) -> None:
    """A township's values are its own (the roll-up adds up counties); derived ones computed."""
    dataset = build_catalogue().dataset
    for key, values in (
        ("chengguan_town", {"RD_EXP": 0.01, "GOV_ST_EXP": 0.03, "GOV_EXP": 1.5, "HTE_NEW": 2}),
        ("jingchuan", {"RD_EXP": 0.2, "GOV_ST_EXP": 0.18, "GOV_EXP": 25, "HTE_NEW": 1}),
    ):
        submission = indicators.open_submission(dataset, cast.unit(key), YEAR, actor=None)
        indicators.set_values(
            submission, [ValueChange(c, v) for c, v in values.items()], actor=None
        )
        submission = indicators.submit_submission(submission, actor=None)
        while submission.status != "approved":
            submission = indicators.approve_submission(submission, actor=None)
    entry = assessment.SchemeEntry(
        code="TOWN_TEST",
        version=YEAR,
        name="乡镇测试",
        kind="innovative_township",
        level=4,
        rules={
            "conditions": [{"indicator": "GOV_ST_SHARE", "comparator": ">=", "threshold": 1}],
            "criteria": [
                {"indicator": "HTE_NEW", "weight": 10, "rule": "steps", "steps": [[1, 5], [2, 10]]},
                {"indicator": "GOV_ST_SHARE", "weight": 10, "rule": "linear"}
                | {"lower": 0, "upper": 4},
            ],
            "shortlist": {"top": 1},
        },
    )
    scheme = assessment.save_scheme(entry, source="imported", actor=None)
    round_, _ = assessment.assess(scheme, YEAR, within=cast.unit("jingchuan"), actor=None)
    (outcome,) = round_.outcomes.select_related("org_unit")
    assert outcome.org_unit.code == "620821100"
    share = 0.03 / 1.5 * 100
    assert outcome.evidence["conditions"][0]["value"] == pytest.approx(share)
    assert outcome.total == pytest.approx(10 + 10 * share / 4)
    assert (outcome.eligible, outcome.rank, outcome.shortlisted) == (True, 1, True)


def test_schemes_are_checked_and_frozen_once_used(schemes, cast) -> None:
    scheme = schemes["INNOVATIVE_COUNTY"]
    assessment.assess(scheme, YEAR, within=cast.unit("gansu"), actor=None)
    # Reloading the same file changes nothing and writes nothing.
    log = LogEntry.objects.count()
    assert assessment.load_schemes(actor=None)[0].pk == scheme.pk
    assert LogEntry.objects.count() == log
    entry = next(e for e in assessment.read_schemes() if e.code == scheme.code)
    entry.rules["shortlist"]["top"] = 3
    with pytest.raises(InvalidInput, match="已有评价结果"):
        assessment.save_scheme(entry, source="imported", actor=None)
    entry.rules["criteria"][0]["indicator"] = "NO_SUCH"
    with pytest.raises(InvalidInput, match="NO_SUCH"):
        assessment.check_entry(entry)
    entry.rules["criteria"][0]["weight"] = -1
    with pytest.raises(InvalidInput, match="评分项「研发经费投入强度」：分值"):
        assessment.check_entry(entry)
    with pytest.raises(Forbidden):
        assessment.load_schemes(actor=cast.user("pingliang", "admin"))


def test_the_newest_version_not_after_the_year_is_used(schemes) -> None:
    assert assessment.latest_scheme("INNOVATIVE_COUNTY", YEAR).version == 2024
    # Before any version exists, the earliest one stands in.
    assert assessment.latest_scheme("INNOVATIVE_COUNTY", 2019).version == 2024
    with pytest.raises(InvalidInput):
        assessment.latest_scheme("NO_SUCH")


# ---------------------------------------------------------------- the command


def test_the_command_runs_a_round_and_loads_schemes(shipped, cast) -> None:
    out = io.StringIO()
    call_command("assess", "schemes", "load", stdout=out)
    assert "创新型县(市)候选数据评价" in out.getvalue()
    out = io.StringIO()
    args = ["run", "--scheme", "INNOVATIVE_COUNTY", "--year", str(YEAR), "--within", "62"]
    call_command("assess", *args, stdout=out)
    assert "新评价" in out.getvalue()
    assert "泾川县" in out.getvalue()
    out = io.StringIO()
    call_command("assess", *args, stdout=out)
    assert "数据未变，沿用" in out.getvalue()
    assert AssessmentRound.objects.count() == 1
    with pytest.raises(CommandError, match="没有代码为「NOPE」的评价方案"):
        call_command("assess", "run", "--scheme", "NOPE", "--year", str(YEAR))


# ---------------------------------------------------------------- the pages


@pytest.fixture
def province_round(schemes, cast) -> AssessmentRound:
    return assessment.assess(
        schemes["INNOVATIVE_COUNTY"], YEAR, within=cast.unit("gansu"), actor=None
    )[0]


def test_a_county_user_sees_the_provinces_round(province_round, cast) -> None:
    client = client_for(cast.user("jingchuan", "clerk"))
    listing = client.get(reverse("evaluation:assessment"))
    assert listing.status_code == 200
    html = listing.content.decode()
    assert "创新型县(市)候选数据评价" in html
    assert "示例数据" in html
    assert "开展评价" not in html  # a clerk cannot run one
    page = client.get(reverse("evaluation:assessment-round", args=[province_round.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    for text in ("泾川县", "崇信县", "城关区", "推荐候选", "数据评价所用的指标", "准入条件"):
        assert text in html
    # The values behind the points: 泾川县's own, not its neighbours'.
    assert html.count("<summary>展开</summary>") == 1
    assert html.count("仅本级及上级可见") == 2
    city = client_for(cast.user("pingliang", "reviewer"))
    html = city.get(reverse("evaluation:assessment-round", args=[province_round.pk])).content
    assert html.decode().count("<summary>展开</summary>") == 2


def test_a_round_is_not_found_outside_its_scope(schemes, cast, province_round) -> None:
    city_round, _ = assessment.assess(
        schemes["INNOVATIVE_COUNTY"], YEAR, within=cast.unit("pingliang"), actor=None
    )
    client = client_for(outsider(cast))
    assert (
        client.get(reverse("evaluation:assessment-round", args=[city_round.pk])).status_code == 404
    )
    assert (
        client.get(reverse("evaluation:assessment-round", args=[province_round.pk])).status_code
        == 200
    )
    listing = client.get(reverse("evaluation:assessment")).context["rounds"]
    assert list(listing) == [province_round]


def test_a_leader_runs_a_round_from_the_page_and_a_clerk_cannot(schemes, cast) -> None:
    data = {"scheme": schemes["INNOVATIVE_COUNTY"].pk, "year": YEAR}
    clerk = client_for(cast.user("pingliang", "clerk"))
    response = clerk.post(reverse("evaluation:assessment"), data)
    assert response.status_code == 200
    assert not AssessmentRound.objects.exists()
    leader = client_for(cast.user("pingliang", "leader"))
    assert "开展评价" in leader.get(reverse("evaluation:assessment")).content.decode()
    response = leader.post(reverse("evaluation:assessment"), data)
    round_ = AssessmentRound.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("evaluation:assessment-round", args=[round_.pk])
    assert round_.within == cast.unit("pingliang")
    assert round_.created_by == cast.user("pingliang", "leader")
    # A county leader has no counties below: the page says why and nothing is written.
    county = client_for(cast.user("jingchuan", "leader"))
    response = county.post(reverse("evaluation:assessment"), data)
    assert response.status_code == 200
    assert "评价层级应低于评价范围" in response.content.decode()
    assert AssessmentRound.objects.count() == 1


def test_the_ranking_page_links_to_the_assessments(shipped, cast) -> None:
    page = client_for(cast.user("jingchuan", "clerk")).get(reverse("evaluation:ranking"))
    assert reverse("evaluation:assessment") in page.content.decode()


# ---------------------------------------------------------------- the demo


def test_the_demo_has_a_round_of_each_shipped_scheme_with_data(db) -> None:
    call_command("demo", "--scale", "county", stdout=io.StringIO())
    rounds = {r.scheme.code: r for r in AssessmentRound.objects.select_related("scheme", "within")}
    assert set(rounds) == {"INNOVATIVE_COUNTY", "LEADERSHIP_RESPONSIBILITY"}  # no township data
    assert all(r.within.code == "62" and r.is_demo and r.year == 2024 for r in rounds.values())
    assert AssessmentScheme.objects.count() == 3
    outcomes = AssessmentOutcome.objects.count()
    call_command("demo", "--scale", "county", stdout=io.StringIO())
    assert AssessmentRound.objects.count() == 2
    assert AssessmentOutcome.objects.count() == outcomes
