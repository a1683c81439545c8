from django.db import models
from django.utils.translation import gettext_lazy as _


class ValueType(models.TextChoices):
    INTEGER = "integer", _("整数")
    NUMBER = "number", _("数值")
    PERCENT = "percent", _("百分比")
    INDEX = "index", _("指数")


class Direction(models.TextChoices):
    POSITIVE = "positive", _("正向（越大越好）")
    NEGATIVE = "negative", _("逆向（越小越好）")


class Rollup(models.TextChoices):
    SUM = "sum", _("求和")
    # Recomputed from the summed numerator and denominator, never averaged.
    RATIO = "ratio", _("比值（由分子分母重算）")
    AVERAGE = "average", _("平均")
    NONE = "none", _("不汇总")


class SubmissionStatus(models.TextChoices):
    DRAFT = "draft", _("填报中")
    SUBMITTED = "submitted", _("已上报")
    RETURNED = "returned", _("已退回")
    APPROVED = "approved", _("已审定")


class Channel(models.TextChoices):
    FORM = "form", _("网页表单")
    UPLOAD = "upload", _("文件上传")
    API = "api", _("接口")
    REGISTRY = "registry", _("登记库")
    SYSTEM = "system", _("系统")


class Importance(models.TextChoices):
    ERROR = "error", _("错误（阻止上报）")
    WARNING = "warning", _("警告（需说明）")


class Comparator(models.TextChoices):
    AT_LEAST = "gte", _("不低于")
    AT_MOST = "lte", _("不高于")
    RANGE = "range", _("区间")
    GROWTH = "growth", _("较基期增长不低于")
    CAGR = "cagr", _("年均增长不低于")


class TargetLight(models.TextChoices):
    ON_TRACK = "on_track", _("进展顺利")
    AT_RISK = "at_risk", _("存在风险")
    OFF_TRACK = "off_track", _("明显滞后")
    NO_DATA = "no_data", _("暂无数据")
