"""Login, logout, passwords and user management pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LogoutView
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from kechuang.accounts import services
from kechuang.accounts.errors import LoginThrottled
from kechuang.accounts.forms import (
    ChangeOwnPasswordForm,
    LoginForm,
    SetPasswordForm,
    UserCreateForm,
    UserEditForm,
)
from kechuang.accounts.models import User
from kechuang.core.authorization import Action, Role, require
from kechuang.core.errors import DomainError
from kechuang.core.scoping import access_object
from kechuang.core.views import paginate, run_service


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = ""
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = services.log_in(
                request, form.cleaned_data["username"], form.cleaned_data["password"]
            )
        except LoginThrottled as error:
            form.add_error(None, str(error.message))
            status = 429
        except DomainError as error:
            form.add_error(None, str(error.message))
        else:
            login(request, user)
            return redirect(next_url or "home")
    return render(request, "accounts/login.html", {"form": form, "next": next_url}, status=status)


logout_view = LogoutView.as_view()


@login_required
@sensitive_post_parameters()
def password_change(request: HttpRequest) -> HttpResponse:
    form = ChangeOwnPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        done = run_service(
            form,
            lambda: services.set_password(
                request.user,
                actor=request.user,
                password=data["password"],
                old_password=data["old_password"],
            ),
        )
        if done is not None:
            update_session_auth_hash(request, done)
            messages.success(request, _("密码已修改。"))
            return redirect("home")
    return render(request, "accounts/form.html", {"form": form, "title": _("修改密码")})


@login_required
def user_list(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.MANAGE_USERS, request.user.org_unit)
    users = User.objects.visible_to(request.user).select_related("org_unit")
    query = request.GET.get("q", "").strip()
    if query:
        users = users.filter(
            Q(username__icontains=query)
            | Q(display_name__contains=query)
            | Q(org_unit__name__contains=query)
        )
    role = request.GET.get("role", "")
    if role in Role.values:
        users = users.filter(role=role)
    page, querystring = paginate(request, users)
    return render(
        request,
        "accounts/user_list.html",
        {
            "page_obj": page,
            "querystring": querystring,
            "q": query,
            "role": role,
            "roles": Role.choices,
        },
    )


@login_required
@sensitive_post_parameters("password")
def user_create(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.MANAGE_USERS, request.user.org_unit)
    form = UserCreateForm(
        request.POST or None,
        user=request.user,
        initial={"org_unit": request.user.org_unit, "role": Role.CLERK},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        created = run_service(
            form,
            lambda: services.create_user(
                actor=request.user,
                username=data["username"],
                password=data["password"],
                org_unit=data["org_unit"],
                role=data["role"],
                display_name=data["display_name"],
                phone=data["phone"],
            ),
        )
        if created is not None:
            messages.success(request, _("已新增用户 %(u)s。") % {"u": created.username})
            return redirect("accounts:user-list")
    return render(
        request,
        "accounts/form.html",
        {"form": form, "title": _("新增用户"), "cancel": "accounts:user-list"},
    )


@login_required
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    target = access_object(User.objects.select_related("org_unit"), request.user, pk)
    require(request.user, Action.MANAGE_USERS, target.org_unit)
    form = UserEditForm(
        request.POST or None, initial=UserEditForm.initial_for(target), user=request.user
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        updated = run_service(
            form,
            lambda: services.update_user(
                target,
                actor=request.user,
                org_unit=data["org_unit"],
                role=data["role"],
                display_name=data["display_name"],
                phone=data["phone"],
                is_active=data["is_active"],
            ),
        )
        if updated is not None:
            messages.success(request, _("已保存用户 %(u)s。") % {"u": updated.username})
            return redirect("accounts:user-list")
    return render(
        request,
        "accounts/form.html",
        {
            "form": form,
            "title": _("修改用户 %(u)s") % {"u": target.username},
            "cancel": "accounts:user-list",
        },
    )


@login_required
@require_POST
def user_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    target = access_object(User.objects.all(), request.user, pk)
    services.deactivate_user(target, actor=request.user)
    messages.success(
        request, _("已停用用户 %(u)s，可在“修改”中重新启用。") % {"u": target.username}
    )
    return redirect("accounts:user-list")


@login_required
@sensitive_post_parameters()
def user_set_password(request: HttpRequest, pk: int) -> HttpResponse:
    target = access_object(User.objects.select_related("org_unit"), request.user, pk)
    require(request.user, Action.MANAGE_USERS, target.org_unit)
    if target.pk == request.user.pk:
        # One's own password is changed with the old one, never "reset".
        return redirect("accounts:password-change")
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = run_service(
            form,
            lambda: services.set_password(
                target, actor=request.user, password=form.cleaned_data["password"]
            ),
        )
        if done is not None:
            messages.success(request, _("已重置用户 %(u)s 的密码。") % {"u": target.username})
            return redirect("accounts:user-list")
    return render(
        request,
        "accounts/form.html",
        {
            "form": form,
            "title": _("重置 %(u)s 的密码") % {"u": target.username},
            "cancel": "accounts:user-list",
        },
    )
