"""Request-scoped context: one id per request groups its audit entries."""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from kechuang.core.errors import DomainError, Forbidden, NotFound

# A ContextVar is per request (per thread / task), not shared process state.
_request_id: contextvars.ContextVar[uuid.UUID | None] = contextvars.ContextVar(
    "kechuang_request_id", default=None
)


def current_request_id() -> uuid.UUID | None:
    return _request_id.get()


@contextmanager
def request_context(request_id: uuid.UUID | None = None) -> Iterator[uuid.UUID]:
    """Group everything done inside (a request, a CLI command, a job) under one id."""
    token = _request_id.set(request_id or uuid.uuid4())
    try:
        yield _request_id.get()  # type: ignore[misc]
    finally:
        _request_id.reset(token)


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with request_context() as request_id:
            request.id = request_id  # type: ignore[attr-defined]
            response = self.get_response(request)
            response["X-Request-Id"] = str(request_id)
            return response


class DomainErrorMiddleware:
    """A domain error that escapes a page view becomes the matching HTTP error page.

    Forms catch the errors they can explain (``core.views.run_service``); what
    is left (a row out of scope, a role without the right) ends here.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, NotFound):
            raise Http404(str(exception.message))
        if isinstance(exception, Forbidden):
            raise PermissionDenied(str(exception.message))
        if isinstance(exception, DomainError):
            return render(request, "error.html", {"error": exception}, status=exception.http_status)
        return None
