"""Each build step of a methodology in plain Chinese, with its formula, for the methodology page."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _


def explain(step: dict[str, Any]) -> tuple[str, str]:
    """(title, explanation) of one spec step such as {"normalise": {"method": "minmax"}}."""
    ((name, params),) = step.items()
    params = params or {}
    describe = STEPS.get(name)
    if describe is None:
        return name, _("自定义步骤。")
    return describe(params)


def _denominate(params: dict[str, Any]) -> tuple[str, str]:
    return _("规模调整"), _("总量指标除以其分母（人口、地区生产总值等），得到人均或强度指标。")


def _impute(params: dict[str, Any]) -> tuple[str, str]:
    method = params.get("method", "mean")
    group = params.get("group")
    text = {
        "mean": _("缺失值用全部参评单位该指标的平均值补齐。"),
        "median": _("缺失值用全部参评单位该指标的中位数补齐。"),
        "mean_group": _("缺失值用同组（%(group)s）单位的平均值补齐。"),
        "median_group": _("缺失值用同组（%(group)s）单位的中位数补齐。"),
    }.get(method, _("缺失值按“%(group)s”补齐。"))
    return _("缺失值处理"), text % {"group": group or method}


def _screen(params: dict[str, Any]) -> tuple[str, str]:
    share = float(params.get("min_share", 2 / 3))
    return _("参评筛选"), _("数据齐全率低于 %(share)s%% 的单位不参加排名。") % {
        "share": f"{share * 100:g}"
    }


def _treat(params: dict[str, Any]) -> tuple[str, str]:
    return _("极端值处理"), _(
        "偏度绝对值超过 %(skew)s 且峰度超过 %(kurt)s 的指标，逐个把最大（或最小）值缩到次大值，"
        "最多 %(win)s 个；仍不合格时改取对数 ln(x − 最小值 + 0.01 ×（最大值 − 最小值））。"
    ) % {
        "skew": params.get("skew", 2.0),
        "kurt": params.get("kurtosis", 3.5),
        "win": params.get("winmax", 5),
    }


def _normalise(params: dict[str, Any]) -> tuple[str, str]:
    method = params.get("method", "minmax")
    lower, upper = params.get("lower", 0), params.get("upper", 100)
    texts = {
        "minmax": _(
            "极差标准化：得分 =（x − 最小值）/（最大值 − 最小值）×（%(u)s − %(l)s）+ %(l)s；"
            "逆指标先取相反数。"
        ),
        "zscore": _("标准分：得分 =（x − 平均值）/ 标准差 × %(sd)s + %(mean)s。"),
        "rank": _("按名次计分：得分 = 名次（并列取最小名次）。"),
        "percentile_rank": _(
            "百分位计分：得分 =（名次 − 1）/（参评数 − 1）× %(scale)s，名次从低到高排。"
        ),
        "borda": _("波达计分：得分 = 名次 − 1。"),
        "fraction_of_max": _("占最大值比例：得分 = x / 最大值。"),
        "distance_to_max": _("与最大值的距离：得分 = 1 −（最大值 − x）/（最大值 − 最小值）。"),
        "distance_to_target": _(
            "与目标的距离：得分 =（x − 最小值）/（目标值 − 最小值），超过目标记满分。"
        ),
        "goalposts": _(
            "标准值法：正指标得分 = x / 标准值 × %(scale)s，达到标准值记满分 %(scale)s；"
            "逆指标得分 = 标准值 / x × %(scale)s，同样以 %(scale)s 封顶。"
        ),
        "base_year": _("基期指数：得分 = x / 基期值 × 100（基期 = 100）。"),
    }
    text = texts.get(method, method) % {
        "l": lower,
        "u": upper,
        "mean": params.get("mean", 0),
        "sd": params.get("sd", 1),
        "scale": params.get("scale", 1 if method == "percentile_rank" else 100),
    }
    if params.get("pooled"):
        text += _("多年数据按全部年份统一标准化，各年得分可以比较。")
    return _("标准化"), text


def _aggregate(params: dict[str, Any]) -> tuple[str, str]:
    texts = {
        "arithmetic": _("加权算术平均：上级得分 = Σ 权重 × 下级得分 / Σ 权重。"),
        "geometric": _("加权几何平均：上级得分 = exp(Σ 权重 × ln 下级得分 / Σ 权重)。"),
        "harmonic": _("加权调和平均：上级得分 = Σ 权重 / Σ（权重 / 下级得分）。"),
        "generalised_mean": _("广义平均：上级得分 =（Σ 权重 × 下级得分^p / Σ 权重）^(1/p)。"),
    }
    method = params.get("method", "arithmetic")
    text = texts.get(method, method) if "by_level" not in params else _("各层分别指定合成方法。")
    text += _("下级指标缺失时，权重在有数据的下级之间重新归一。")
    return _("逐级合成"), text


STEPS = {
    "denominate": _denominate,
    "impute": _impute,
    "screen": _screen,
    "treat": _treat,
    "normalise": _normalise,
    "aggregate": _aggregate,
}
