"""Request-scoped context: one id per request groups its audit entries."""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import patch_vary_headers

from kechuang.core.errors import DomainError, Forbidden, NotFound

# ContextVars are per request (per thread / task), not shared process state.
_request_id: contextvars.ContextVar[uuid.UUID | None] = contextvars.ContextVar(
    "kechuang_request_id", default=None
)
_channel: contextvars.ContextVar[str] = contextvars.ContextVar("kechuang_channel", default="")


def current_request_id() -> uuid.UUID | None:
    return _request_id.get()


def current_channel() -> str:
    """How the current change arrived: "web", "api", "cli" (empty: unknown)."""
    return _channel.get()


@contextmanager
def request_context(
    request_id: uuid.UUID | None = None, *, channel: str = ""
) -> Iterator[uuid.UUID]:
    """Group everything done inside (a request, a CLI command, a job) under one id."""
    id_token = _request_id.set(request_id or uuid.uuid4())
    channel_token = _channel.set(channel)
    try:
        yield _request_id.get()  # type: ignore[misc]
    finally:
        _channel.reset(channel_token)
        _request_id.reset(id_token)


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        channel = "api" if request.path.startswith("/api/") else "web"
        with request_context(channel=channel) as request_id:
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


class ChosenLanguageMiddleware:
    """Chinese unless the user chose otherwise (the language cookie set by the switcher).

    Django's LocaleMiddleware would follow the browser's Accept-Language, so an
    official on an English-language Windows would get English pages; the
    platform is Chinese first, English only on request.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        available = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in available else settings.LANGUAGE_CODE
        request.LANGUAGE_CODE = language  # type: ignore[attr-defined]
        # override, not activate: the thread's language is restored afterwards, so
        # one English request never leaks into the next one served by the thread.
        with translation.override(language):
            response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ("Cookie",))
        return response
