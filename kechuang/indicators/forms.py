from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kechuang.indicators.choices import Comparator
from kechuang.indicators.models import DataSetMember, Indicator
from kechuang.regions.forms import OrgUnitCodeField


class ValuesForm(forms.Form):
    """One value box and one comment box per indicator of the data set, built from the catalogue."""

    reason = forms.CharField(label=_("修改原因"), required=False, max_length=300)

    def __init__(
        self, *args: Any, members: list[DataSetMember], locked: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.members = members
        for member in members:
            indicator = member.indicator
            step = "1" if indicator.value_type == "integer" else "any"
            attrs = {
                "step": step,
                "inputmode": "decimal",
                "aria-describedby": f"hint-{indicator.code}",
            }
            if indicator.min_value is not None:
                attrs["min"] = f"{indicator.min_value:g}"
            if indicator.max_value is not None:
                attrs["max"] = f"{indicator.max_value:g}"
            self.fields[f"v_{indicator.code}"] = forms.FloatField(
                label=indicator.name,
                required=False,
                disabled=locked or indicator.is_derived,
                widget=forms.NumberInput(attrs=attrs),
                error_messages={"invalid": _("请输入数字")},
            )
            self.fields[f"c_{indicator.code}"] = forms.CharField(
                label=_("%(name)s 的说明") % {"name": indicator.name},
                required=False,
                disabled=locked,
                widget=forms.TextInput(attrs={"class": "comment"}),
            )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("理由"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class OpenForm(forms.Form):
    dataset = forms.CharField()
    year = forms.IntegerField(min_value=2000, max_value=2100)


class TargetForm(forms.Form):
    """Set (or replace) one unit's target on an indicator for a year."""

    org_unit = OrgUnitCodeField(label=_("单位"))
    indicator = forms.ModelChoiceField(
        label=_("指标"),
        queryset=Indicator.objects.filter(is_active=True).order_by("order", "code"),
        to_field_name="code",
    )
    year = forms.IntegerField(label=_("目标年度"), min_value=2000, max_value=2100)
    comparator = forms.ChoiceField(label=_("比较方式"), choices=Comparator.choices)
    value = forms.FloatField(
        label=_("目标值"), help_text=_("增长类目标填百分数，如 5 表示增长 5%。")
    )
    value_high = forms.FloatField(label=_("区间上限"), required=False)
    base_year = forms.IntegerField(
        label=_("基期年度"), required=False, min_value=2000, max_value=2100
    )
    note = forms.CharField(label=_("说明"), required=False, max_length=300)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["org_unit"].limit_to(user)
