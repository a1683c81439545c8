"""The assessment rules (kechuang.evaluation.assessment): examples and properties (Hypothesis)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kechuang.evaluation.assessment import (
    ALL_TARGETS,
    NO_DATA,
    Candidate,
    Scheme,
    assess,
    parse_scheme,
)

FEW = settings(max_examples=50, deadline=None)
CODES = ("A", "B", "C", "D")

RULES = {
    "conditions": [
        {"indicator": "A", "comparator": "≥", "threshold": 1, "name": "甲不少于1"},
        {"indicator": "B", "comparator": "<", "threshold": 10},
    ],
    "criteria": [
        {"code": "LIN", "name": "线性", "indicator": "A", "weight": 40, "rule": "linear"}
        | {"lower": 0, "upper": 10},
        {"code": "STEP", "name": "分档", "indicator": "C", "weight": 30, "rule": "steps"}
        | {"steps": [[1, 10], [5, 20], [9, 30]]},
        {"code": "DONE", "name": "目标", "target": ALL_TARGETS, "weight": 30, "rule": "completion"},
    ],
    "shortlist": {"top": 2, "min_score": 20, "label": "推荐候选"},
}


def candidate(code: str, completion: float | None = None, **values: float | None) -> Candidate:
    return Candidate(code=code, name=code, values=values, completions={ALL_TARGETS: completion})


# ---------------------------------------------------------------- examples


def test_a_worked_example() -> None:
    scheme = parse_scheme(RULES)
    outcomes = assess(
        scheme,
        [
            candidate("300", 0.5, A=5, B=1, C=5),  # 20 + 20 + 15 = 55
            candidate("100", 2.0, A=10, B=9, C=0),  # 40 + 0 + 30 (capped) = 70
            candidate("200", 0.5, A=5, B=2, C=6),  # 55, ties with 300
            candidate("400", 1.0, A=12, B=10, C=9),  # B is not below 10
            candidate("500", 1.0, A=None, B=1, C=9),  # no value for A
        ],
    )
    assert [(o.code, o.rank, o.total, o.shortlisted) for o in outcomes] == [
        ("100", 1, 70.0, True),
        ("200", 2, 55.0, True),
        ("300", 2, 55.0, True),  # ties at the cut are all in
        ("400", None, 100.0, False),
        ("500", None, 60.0, False),
    ]
    assert outcomes[0].percent == pytest.approx(70.0)
    failed = {
        o.code: [(c.condition.indicator, c.value, c.reason) for c in o.failed] for o in outcomes
    }
    assert failed["400"] == [("B", 10.0, "未达到")]
    assert failed["500"] == [("A", None, NO_DATA)]
    missing = outcomes[-1].criteria[0]
    assert (missing.value, missing.points, missing.reason) == (None, 0.0, NO_DATA)


def test_comparators_and_their_aliases() -> None:
    for comparator, passes in (
        (">=", (2, 3)),
        ("≥", (2, 3)),
        ("<=", (1, 2)),
        ("≤", (1, 2)),
        (">", (3,)),
        ("<", (1,)),
        ("==", (2,)),
        ("=", (2,)),
    ):
        rules = {
            "conditions": [{"indicator": "A", "comparator": comparator, "threshold": 2}],
            "criteria": [{"indicator": "A", "weight": 1, "rule": "linear", "lower": 0, "upper": 1}],
        }
        outcomes = assess(parse_scheme(rules), [candidate(str(x), A=x) for x in (1, 2, 3)])
        assert {int(o.code) for o in outcomes if o.eligible} == set(passes), comparator


def test_a_falling_linear_rule_rewards_smaller_values() -> None:
    rules = {
        "criteria": [
            {"indicator": "ENERGY", "weight": 10, "rule": "linear", "lower": 1.0, "upper": 0.5}
        ]
    }
    scheme = parse_scheme(rules)
    points = [scheme.criteria[0].points(x) for x in (1.2, 1.0, 0.75, 0.5, 0.1)]
    assert points == [0.0, 0.0, 5.0, 10.0, 10.0]


def test_the_shortlist_rules() -> None:
    base = {
        "criteria": [{"indicator": "A", "weight": 100, "rule": "linear", "lower": 0, "upper": 100}]
    }
    people = [candidate(f"62{n}", A=x) for n, x in enumerate((90, 70, 70, 40, 10))]

    def listed(shortlist: Any) -> list[str]:
        scheme = parse_scheme({**base, "shortlist": shortlist})
        return [o.code for o in assess(scheme, people) if o.shortlisted]

    assert listed({"top": 1}) == ["620"]
    assert listed({"top": 2}) == ["620", "621", "622"]  # the tie at the cut is all in
    assert listed({"min_score": 40}) == ["620", "621", "622", "623"]
    assert listed({"top": 3, "min_score": 80}) == ["620"]
    assert listed(None) == ["620", "621", "622", "623", "624"]


def test_the_same_candidates_in_any_order_give_the_same_outcomes() -> None:
    scheme = parse_scheme(RULES)
    people = [candidate(f"{n:03d}", n / 10, A=n % 7, B=n % 11, C=n % 5) for n in range(30)]
    first = assess(scheme, people)
    random.Random(7).shuffle(people)
    assert assess(scheme, people) == first


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ("criteria", "映射"),
        ({"criteria": []}, "至少要有一个评分项"),
        ({"criteria": [{"indicator": "A", "weight": 1}], "extra": 1}, "不认识的键 extra"),
        (
            {"criteria": [{"name": "研发强度", "indicator": "A", "weight": 0, "rule": "linear"}]},
            "评分项「研发强度」：分值 weight 应大于 0",
        ),
        (
            {"criteria": [{"name": "研发强度", "indicator": "A", "weight": 5, "rule": "sigmoid"}]},
            "评分项「研发强度」：计分规则",
        ),
        (
            {"criteria": [{"name": "研发强度", "indicator": "A", "weight": 5, "rule": "linear"}]},
            "评分项「研发强度」：linear 规则须填 lower 和 upper",
        ),
        (
            {
                "criteria": [
                    {"name": "研发强度", "indicator": "A", "weight": 5, "rule": "linear"}
                    | {"lower": 1, "upper": 1}
                ]
            },
            "评分项「研发强度」：lower 和 upper 不能相等",
        ),
        (
            {
                "criteria": [
                    {"name": "高企", "indicator": "A", "weight": 5, "rule": "steps"}
                    | {"steps": [[3, 2], [1, 4]]}
                ]
            },
            "评分项「高企」：steps 的门槛应从小到大",
        ),
        (
            {
                "criteria": [
                    {"name": "高企", "indicator": "A", "weight": 5, "rule": "steps"}
                    | {"steps": [[1, 4], [3, 2]]}
                ]
            },
            "评分项「高企」：steps 的分值应随门槛提高而不减",
        ),
        (
            {
                "criteria": [
                    {"name": "高企", "indicator": "A", "weight": 5, "rule": "steps"}
                    | {"steps": [[1, 6]]}
                ]
            },
            "评分项「高企」：steps 的分值应在 0 到 5 之间",
        ),
        (
            {
                "criteria": [
                    {"name": "研发强度", "indicator": "A", "weight": 5, "rule": "completion"}
                ]
            },
            "评分项「研发强度」：completion 规则只用于目标完成度",
        ),
        (
            {
                "criteria": [
                    {"name": "两头", "indicator": "A", "target": "*", "weight": 5}
                    | {"rule": "completion"}
                ]
            },
            "评分项「两头」：indicator（指标）和 target（目标完成度）须填且只填一个",
        ),
        (
            {
                "criteria": [
                    {"name": "研发强度", "indicator": "rd", "weight": 5, "rule": "linear"}
                    | {"lower": 0, "upper": 1}
                ]
            },
            "评分项「研发强度」：indicator 应为指标代码",
        ),
        (
            {
                "criteria": [
                    {"code": "X", "name": "甲", "indicator": "A", "weight": 1, "rule": "linear"}
                    | {"lower": 0, "upper": 1},
                    {"code": "X", "name": "乙", "indicator": "B", "weight": 1, "rule": "linear"}
                    | {"lower": 0, "upper": 1},
                ]
            },
            "评分项「乙」：代码 X 重复",
        ),
        (
            {
                "conditions": [{"indicator": "A", "comparator": "~", "threshold": 1}],
                "criteria": [],
            },
            "准入条件第 1 项（A）：比较方式",
        ),
        (
            {
                "conditions": [{"indicator": "A", "comparator": ">=", "threshold": "很多"}],
                "criteria": [],
            },
            "准入条件第 1 项（A）：threshold 应为数字",
        ),
        (
            {
                "criteria": [
                    {"indicator": "A", "weight": 1, "rule": "linear", "lower": 0, "upper": 1}
                ],
                "shortlist": {"top": 0},
            },
            "入围规则：top 应为正整数",
        ),
    ],
)
def test_a_malformed_scheme_is_refused_naming_what_is_wrong(rules: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_scheme(rules)


def test_a_parsed_scheme_round_trips_through_its_stored_form() -> None:
    scheme = parse_scheme(RULES)
    assert parse_scheme(scheme.as_json()) == scheme
    assert scheme.as_json()["conditions"][0]["comparator"] == ">="  # the alias is resolved
    assert scheme.indicators == ["A", "B", "C"]
    assert scheme.targets == [ALL_TARGETS]
    assert scheme.max_points == 100


# ---------------------------------------------------------------- properties

value = st.one_of(st.none(), st.integers(0, 6).map(float), st.floats(-5, 20, allow_nan=False))


@st.composite
def criteria(draw: Any) -> list[dict[str, Any]]:
    items = []
    for number in range(draw(st.integers(1, 4))):
        code = draw(st.sampled_from(CODES))
        weight = draw(st.integers(1, 30))
        rule = draw(st.sampled_from(("linear", "steps", "completion")))
        item: dict[str, Any] = {"code": f"K{number}", "weight": weight, "rule": rule}
        if rule == "completion":
            item["target"] = code
        elif rule == "linear":
            lower = draw(st.integers(-2, 5))
            item |= {"indicator": code, "lower": lower, "upper": lower + draw(st.integers(1, 8))}
        else:
            thresholds = sorted(draw(st.sets(st.integers(-2, 10), min_size=1, max_size=4)))
            points = sorted(draw(st.integers(0, weight)) for _ in thresholds)
            item |= {
                "indicator": code,
                "steps": [list(p) for p in zip(thresholds, points, strict=True)],
            }
        items.append(item)
    return items


@st.composite
def schemes(draw: Any) -> Scheme:
    conditions = [
        {
            "indicator": draw(st.sampled_from(CODES)),
            "comparator": draw(st.sampled_from((">=", "<=", ">", "<", "=="))),
            "threshold": draw(st.integers(0, 5)),
        }
        for _ in range(draw(st.integers(0, 3)))
    ]
    shortlist = draw(
        st.one_of(
            st.none(),
            st.fixed_dictionaries(
                {},
                optional={"top": st.integers(1, 6), "min_score": st.integers(0, 60)},
            ),
        )
    )
    return parse_scheme(
        {"conditions": conditions, "criteria": draw(criteria()), "shortlist": shortlist}
    )


@st.composite
def people(draw: Any) -> list[Candidate]:
    count = draw(st.integers(1, 12))
    return [
        Candidate(
            code=f"{620800 + n}",
            values={code: draw(value) for code in CODES},
            completions={code: draw(value) for code in CODES},
        )
        for n in range(count)
    ]


@FEW
@given(schemes(), people())
def test_failing_any_condition_keeps_a_candidate_off_the_ranking_and_the_shortlist(
    scheme: Scheme, candidates: list[Candidate]
) -> None:
    for outcome in assess(scheme, candidates):
        assert outcome.eligible == (not outcome.failed)
        assert len(outcome.conditions) == len(scheme.conditions)
        if outcome.failed:
            assert outcome.rank is None
            assert not outcome.shortlisted
        for result in outcome.failed:
            assert result.reason == (NO_DATA if result.value is None else "未达到")


@FEW
@given(schemes(), people())
def test_the_total_is_the_sum_of_the_points(scheme: Scheme, candidates: list[Candidate]) -> None:
    for outcome in assess(scheme, candidates):
        assert [c.criterion for c in outcome.criteria] == list(scheme.criteria)
        assert outcome.total == pytest.approx(sum(c.points for c in outcome.criteria), abs=1e-8)
        assert 0 <= outcome.total <= scheme.max_points + 1e-9
        assert outcome.percent == pytest.approx(100 * outcome.total / scheme.max_points, abs=1e-6)
        for result in outcome.criteria:
            assert 0 <= result.points <= result.criterion.weight


@FEW
@given(schemes(), people())
def test_ranks_are_competition_ranks_over_the_eligible(
    scheme: Scheme, candidates: list[Candidate]
) -> None:
    outcomes = assess(scheme, candidates)
    eligible = [o for o in outcomes if o.eligible]
    assert sorted(o.code for o in outcomes) == sorted(c.code for c in candidates)
    # Listed best first, ties by unit code, ineligible last.
    assert outcomes[: len(eligible)] == eligible
    assert [(o.rank, o.code) for o in eligible] == sorted((o.rank, o.code) for o in eligible)
    ranks = [o.rank for o in eligible]
    expected = []
    for position, outcome in enumerate(eligible, start=1):
        tied = expected and eligible[position - 2].total == outcome.total
        expected.append(expected[-1] if tied else position)
    assert ranks == expected
    for outcome in eligible:
        assert outcome.rank == 1 + sum(o.total > outcome.total for o in eligible)
    rule = scheme.shortlist
    for outcome in eligible:
        within_top = rule.top is None or outcome.rank <= rule.top
        above_minimum = rule.min_score is None or outcome.total >= rule.min_score
        assert outcome.shortlisted == (within_top and above_minimum)


@FEW
@given(
    criteria(),
    st.sampled_from(CODES),
    st.floats(-10, 20, allow_nan=False),
    st.floats(0, 10, allow_nan=False),
)
def test_points_never_fall_when_a_positively_scored_value_rises(
    items: list[dict[str, Any]], code: str, start: float, rise: float
) -> None:
    scheme = parse_scheme({"criteria": items})
    for criterion in scheme.criteria:
        assert criterion.points(start) <= criterion.points(start + rise)
    values = dict.fromkeys(CODES, 1.0)
    before = Candidate("1", values={**values, code: start}, completions={**values, code: start})
    after = Candidate(
        "1", values={**values, code: start + rise}, completions={**values, code: start + rise}
    )
    assert assess(scheme, [before])[0].total <= assess(scheme, [after])[0].total
