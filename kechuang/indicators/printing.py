"""The paper copy of a submission: a PDF to print, sign and stamp (盖章).

It carries every value, the unit and year, a checksum of the values and a QR
code that leads back to the submission, so a scanned stamped copy can be
matched to exactly the numbers it certifies.
"""

from __future__ import annotations

from typing import Any

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from kechuang.indicators.expressions import parse
from kechuang.indicators.models import DataValue, Submission


def submission_url(submission: Submission, digest: str) -> str:
    path = reverse("indicators:submission", args=[submission.pk])
    return f"{settings.SITE_URL.rstrip('/')}{path}?digest={digest[:16]}"


def render_submission_pdf(submission: Submission, *, digest: str, printed_by: Any) -> bytes:
    """The PDF form for ``submission`` (WeasyPrint; Chinese glyphs from fonts-noto-cjk)."""
    from weasyprint import HTML  # heavy import, only when a PDF is asked for

    members = list(submission.dataset.members.select_related("indicator"))
    values = {
        v.indicator_id: v
        for v in DataValue.objects.filter(org_unit=submission.org_unit, year=submission.year)
    }
    by_code = {
        m.indicator.code: getattr(values.get(m.indicator_id), "value", None) for m in members
    }
    rows = []
    for member in members:
        indicator, cell = member.indicator, values.get(member.indicator_id)
        value = (
            parse(indicator.formula).evaluate(by_code)
            if indicator.is_derived
            else getattr(cell, "value", None)
        )
        rows.append({"member": member, "indicator": indicator, "cell": cell, "value": value})
    url = submission_url(submission, digest)
    qr_svg = segno.make(url, error="m").svg_inline(scale=3)
    html = render_to_string(
        "indicators/print.html",
        {
            "submission": submission,
            "rows": rows,
            "digest": digest,
            "url": url,
            "qr_svg": qr_svg,
            "printed_at": timezone.localtime(),
            "printed_by": printed_by,
        },
    )
    return HTML(string=html).write_pdf()
