"""Helpers every app's views share: turning domain errors into form errors and messages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.core.paginator import Page, Paginator
from django.http import HttpRequest

from kechuang.core.errors import DomainError

T = TypeVar("T")


def run_service(form: forms.Form, call: Callable[[], T]) -> T | None:
    """Call a service; on a domain error put its message on the form and return None."""
    try:
        return call()
    except DomainError as error:
        for name, problems in error.fields.items():
            target = name if name in form.fields else None
            for problem in problems if isinstance(problems, list | tuple) else [problems]:
                form.add_error(target, str(problem))
        if not error.fields or not any(name in form.fields for name in error.fields):
            form.add_error(None, str(error.message))
        return None


def paginate(request: HttpRequest, items: Any, per_page: int = 50) -> tuple[Page, str]:
    """A page of ``items`` and the query string (without ``page``) for the page links."""
    page = Paginator(items, per_page).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    query = params.urlencode()
    return page, f"{query}&" if query else ""
