from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kechuang.regions.choices import Level, UnitKind
from kechuang.regions.models import Department, OrgUnit


class OrgUnitForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100)
    code = forms.CharField(
        label=_("区划代码"),
        max_length=12,
        help_text=_("国家统计局统计用区划代码：地级 4 位、县级 6 位、乡级 9 位。"),
    )
    kind = forms.ChoiceField(label=_("类型"), choices=UnitKind.choices)
    effective = forms.DateField(
        label=_("生效日期"),
        required=False,
        help_text=_("更名或改代码时，新名称、新代码从此日起生效；留空为今天。"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class OrgUnitEditForm(OrgUnitForm):
    parent = forms.ModelChoiceField(label=_("上级单位"), queryset=OrgUnit.objects.none())

    def __init__(self, *args: Any, user: Any, unit: OrgUnit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = (
            OrgUnit.objects.visible_to(user).current().filter(level=unit.level - 1)
        )


class DepartmentForm(forms.Form):
    org_unit = forms.ModelChoiceField(label=_("所属单位"), queryset=OrgUnit.objects.none())
    name = forms.CharField(label=_("名称"), max_length=100, help_text=_("例如：泾川县科学技术局"))
    short_name = forms.CharField(
        label=_("简称"), max_length=50, required=False, help_text=_("例如：县科技局")
    )
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Departments sit at the county level and above; townships have no 局.
        self.fields["org_unit"].queryset = (
            OrgUnit.objects.visible_to(user).current().filter(level__lte=Level.COUNTY)
        )

    @classmethod
    def initial_for(cls, department: Department) -> dict[str, Any]:
        return {
            "org_unit": department.org_unit,
            "name": department.name,
            "short_name": department.short_name,
            "is_active": department.is_active,
        }
