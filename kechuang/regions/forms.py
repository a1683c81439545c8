from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kechuang.regions.choices import Level, UnitKind
from kechuang.regions.models import Department, OrgUnit


class UnitCodeInput(forms.TextInput):
    """A code box with suggestions: a province has ~1,500 units, the country ~44,000."""

    template_name = "regions/widgets/unit_code.html"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.suggestions: list[OrgUnit] = []

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"]["list"] = f"{context['widget']['attrs']['id']}_list"
        context["suggestions"] = self.suggestions
        return context

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, OrgUnit):
            return value.code
        if isinstance(value, int):
            unit = OrgUnit.objects.filter(pk=value).first()
            return unit.code if unit else None
        return super().format_value(value)


class OrgUnitCodeField(forms.Field):
    """An org unit chosen by its division code, among the units the user may see."""

    widget = UnitCodeInput
    default_error_messages = {"unknown": _("没有代码为 %(code)s 的在用单位，或您无权选择它。")}

    def __init__(self, *args: Any, max_level: int = Level.TOWNSHIP, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", _("输入区划代码，如 620821（泾川县）；可从提示中选择。"))
        super().__init__(*args, **kwargs)
        self.max_level = max_level
        self.queryset = OrgUnit.objects.none()

    def limit_to(self, user: Any, *, suggest_up_to: int = Level.COUNTY) -> None:
        self.queryset = OrgUnit.objects.visible_to(user).current().filter(level__lte=self.max_level)
        self.widget.suggestions = list(
            self.queryset.filter(level__lte=suggest_up_to).order_by("path")[:4000]
        )

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        return {
            **super().widget_attrs(widget),
            "maxlength": "12",
            "inputmode": "numeric",
            "autocomplete": "off",
        }

    def prepare_value(self, value: Any) -> Any:
        return value.code if isinstance(value, OrgUnit) else value

    def to_python(self, value: Any) -> OrgUnit | None:
        code = str(value or "").strip()
        if not code:
            return None
        unit = self.queryset.filter(code=code).first()
        if unit is None:
            raise forms.ValidationError(
                self.error_messages["unknown"], code="unknown", params={"code": code}
            )
        return unit


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
    parent = OrgUnitCodeField(
        label=_("上级单位"), help_text=_("调整隶属关系时填写新上级单位的区划代码。")
    )

    def __init__(self, *args: Any, user: Any, unit: OrgUnit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parent"].limit_to(user, suggest_up_to=unit.level - 1)
        self.unit = unit

    def clean_parent(self) -> OrgUnit:
        parent = self.cleaned_data["parent"]
        if parent is not None and parent.level != self.unit.level - 1:
            raise forms.ValidationError(_("新的上级单位必须比本单位高一级。"))
        return parent


class DepartmentForm(forms.Form):
    org_unit = OrgUnitCodeField(label=_("所属单位"))
    name = forms.CharField(label=_("名称"), max_length=100, help_text=_("例如：泾川县科学技术局"))
    short_name = forms.CharField(
        label=_("简称"), max_length=50, required=False, help_text=_("例如：县科技局")
    )
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["org_unit"].limit_to(user)

    @classmethod
    def initial_for(cls, department: Department) -> dict[str, Any]:
        return {
            "org_unit": department.org_unit,
            "name": department.name,
            "short_name": department.short_name,
            "is_active": department.is_active,
        }
