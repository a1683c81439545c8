from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kechuang.indicators.models import DataSetMember


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
