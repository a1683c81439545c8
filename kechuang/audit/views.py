"""The audit log page and its CSV export, scoped to the viewer's subtree."""

from __future__ import annotations

import csv
import datetime
import json
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import F, Q, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from kechuang.audit.actions import ACTION_LABELS, label_for
from kechuang.audit.display import change_lines
from kechuang.audit.models import LogEntry
from kechuang.core.authorization import Action, has_action
from kechuang.core.errors import Forbidden
from kechuang.core.scoping import subtree_q
from kechuang.core.spreadsheets import safe_cell
from kechuang.core.views import paginate


def _require_viewer(user: Any) -> None:
    if not has_action(user, Action.VIEW_AUDIT):
        raise Forbidden(_("只有管理员和审核员可以查看审计日志。"))


def filtered_entries(user: Any, params: Any) -> QuerySet[LogEntry]:
    """The log entries the user may see, narrowed by the page's filters."""
    entries = LogEntry.objects.visible_to(user).select_related("org_unit")
    if params.get("q"):
        text = params["q"].strip()
        entries = entries.filter(Q(object_repr__icontains=text) | Q(actor_name__icontains=text))
    if params.get("action"):
        entries = entries.filter(action__startswith=params["action"])
    if params.get("unit"):
        # The unit model is reached through the foreign key: audit sits below regions.
        unit_model = LogEntry._meta.get_field("org_unit").related_model
        # A code can name a retired unit and its successor: the one in force wins.
        unit = (
            unit_model.objects.visible_to(user)
            .filter(code=params["unit"].strip())
            .order_by(F("valid_to").desc(nulls_first=True))
            .first()
        )
        entries = entries.filter(subtree_q("org_unit__path", unit.path)) if unit else entries.none()
    for name, lookup in (("since", "time__gte"), ("until", "time__lt")):
        day = _parse_day(params.get(name))
        if day is not None:
            bound = day + datetime.timedelta(days=1) if name == "until" else day
            start = datetime.datetime.combine(bound, datetime.time.min)
            entries = entries.filter(**{lookup: timezone.make_aware(start)})
    return entries


def _parse_day(raw: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@login_required
def log(request: HttpRequest) -> HttpResponse:
    _require_viewer(request.user)
    page, querystring = paginate(request, filtered_entries(request.user, request.GET))
    for entry in page:
        entry.label = label_for(entry.action)
        entry.lines = change_lines(entry)
        entry.data_json = json.dumps(entry.data, ensure_ascii=False, indent=1)
    return render(
        request,
        "audit/log.html",
        {
            "page_obj": page,
            "querystring": querystring,
            "params": request.GET,
            "actions": sorted(ACTION_LABELS.items(), key=lambda kv: kv[0]),
        },
    )


CSV_HEADER = (
    "时间",
    "操作人",
    "单位",
    "单位代码",
    "操作代码",
    "操作",
    "对象类型",
    "对象编号",
    "对象",
    "修改前",
    "修改后",
    "其他信息",
    "请求编号",
)


@login_required
def log_csv(request: HttpRequest) -> StreamingHttpResponse:
    _require_viewer(request.user)
    entries = filtered_entries(request.user, request.GET)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(_csv_rows(entries), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
    return response


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_rows(entries: QuerySet[LogEntry]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # The BOM makes Excel and WPS open the file as UTF-8 rather than GBK.
    yield "\ufeff" + writer.writerow(CSV_HEADER)
    for e in entries.iterator(chunk_size=2000):
        yield writer.writerow(
            safe_cell(value)
            for value in (
                timezone.localtime(e.time).isoformat(timespec="seconds"),
                e.actor_name,
                e.org_unit.name if e.org_unit else "",
                e.org_unit.code if e.org_unit else "",
                e.action,
                label_for(e.action),
                e.object_type,
                e.object_id,
                e.object_repr,
                _json(e.before),
                _json(e.after),
                _json(e.data),
                e.request_id or "",
            )
        )


def _json(value: Any) -> str:
    return "" if value in (None, {}) else json.dumps(value, ensure_ascii=False, sort_keys=True)
