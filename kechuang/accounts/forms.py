from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.utils.translation import gettext_lazy as _

from kechuang.accounts.models import User
from kechuang.core.authorization import Role
from kechuang.regions.forms import OrgUnitCodeField


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("用户名"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class UserCreateForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150)
    display_name = forms.CharField(label=_("姓名"), max_length=100, required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=30, required=False)
    org_unit = OrgUnitCodeField(label=_("所属单位"))
    role = forms.ChoiceField(label=_("角色"), choices=Role.choices)
    password = forms.CharField(
        label=_("初始密码"),
        strip=False,
        widget=forms.PasswordInput,
        help_text=password_validators_help_text_html,
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["org_unit"].limit_to(user)


class UserEditForm(forms.Form):
    display_name = forms.CharField(label=_("姓名"), max_length=100, required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=30, required=False)
    org_unit = OrgUnitCodeField(label=_("所属单位"))
    role = forms.ChoiceField(label=_("角色"), choices=Role.choices)
    is_active = forms.BooleanField(label=_("启用"), required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["org_unit"].limit_to(user)

    @classmethod
    def initial_for(cls, target: User) -> dict[str, Any]:
        return {
            "display_name": target.display_name,
            "phone": target.phone,
            "org_unit": target.org_unit,
            "role": target.role,
            "is_active": target.is_active,
        }


class SetPasswordForm(forms.Form):
    password = forms.CharField(
        label=_("新密码"),
        strip=False,
        widget=forms.PasswordInput,
        help_text=password_validators_help_text_html,
    )
    password_again = forms.CharField(
        label=_("再次输入新密码"), strip=False, widget=forms.PasswordInput
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", _("两次输入的密码不一致。"))
        return data


class ChangeOwnPasswordForm(SetPasswordForm):
    old_password = forms.CharField(
        label=_("原密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    field_order = ["old_password", "password", "password_again"]
