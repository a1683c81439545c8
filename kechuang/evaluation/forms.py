from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kechuang.evaluation.models import AssessmentScheme, Methodology


class ComputeForm(forms.Form):
    methodology = forms.ModelChoiceField(
        label=_("评价方法"), queryset=Methodology.objects.filter(is_active=True)
    )
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)


class AssessForm(forms.Form):
    scheme = forms.ModelChoiceField(
        label=_("评价方案"), queryset=AssessmentScheme.objects.filter(is_active=True)
    )
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)


class WhatIfForm(forms.Form):
    """One optional number per indicator of the methodology: the assumed raw value."""

    def __init__(self, *args: Any, indicators: list[tuple[str, str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code, label, current in indicators:
            self.fields[code] = forms.FloatField(
                label=label,
                required=False,
                widget=forms.NumberInput(attrs={"step": "any", "placeholder": current}),
            )

    def changes(self) -> dict[str, float]:
        return {code: value for code, value in self.cleaned_data.items() if value is not None}


class ImportTableForm(forms.Form):
    file = forms.FileField(label=_("正式指标体系及权重表（.xlsx）"))
    version = forms.IntegerField(label=_("新版本（年度）"), min_value=2000, max_value=2100)
