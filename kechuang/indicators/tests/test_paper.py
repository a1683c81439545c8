"""The paper copy: a Chinese PDF with every value and a checksum; the stamped scan kept with it."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from kechuang.audit.models import LogEntry
from kechuang.core.errors import Forbidden, InvalidInput, NotFound
from kechuang.indicators import services
from kechuang.indicators.services import ValueChange, paper

VALUES = {"RD_EXP": 0.16, "GOV_ST_EXP": 0.18, "GOV_EXP": 12.5, "HTE_NEW": 1}


@pytest.fixture
def sent(cast, catalogue, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    clerk = cast.user("jingchuan", "clerk")
    submission = services.open_submission(
        catalogue.dataset, cast.unit("jingchuan"), 2023, actor=clerk
    )
    services.set_values(
        submission,
        [ValueChange(c, v, "据统计年报" if c == "RD_EXP" else None) for c, v in VALUES.items()],
        actor=clerk,
    )
    return services.submit_submission(submission, actor=clerk)


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_printed_form_holds_unit_year_values_and_checksum(cast, sent) -> None:
    data = paper.print_submission(sent, actor=cast.user("jingchuan", "clerk"))
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    for expected in (
        "泾川县",
        "2023",
        "研发经费支出",
        "0.16",
        "12.5",
        "单位盖章",
        services.values_digest(sent)[:16],
    ):
        assert expected in text.replace("\n", ""), expected


def test_the_page_serves_the_pdf_only_to_those_who_may_see_the_submission(cast, sent) -> None:
    url = reverse("indicators:submission-pdf", args=[sent.pk])
    for unit, role, status in (
        ("jingchuan", "clerk", 200),
        ("pingliang", "reviewer", 200),
        ("chongxin", "clerk", 404),
        ("gansu", "leader", 404),
    ):
        client = Client()
        client.force_login(cast.user(unit, role))
        response = client.get(url)
        assert response.status_code == status, (unit, role)
        if status == 200:
            assert response["Content-Type"] == "application/pdf"


def scan(content: bytes, name: str = "scan.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def test_a_stamped_scan_is_kept_and_logged_with_its_checksum(cast, sent) -> None:
    clerk = cast.user("jingchuan", "clerk")
    paper.attach_scan(sent, scan(b"%PDF-1.7\n%stamped\n"), actor=clerk)
    sent.refresh_from_db()
    assert sent.scan.name.endswith("620821-2023-COUNTY_ANNUAL.pdf")
    entry = LogEntry.objects.filter(action="indicators.submission.scan").get()
    assert len(entry.data["sha256"]) == 64
    client = Client()
    client.force_login(cast.user("pingliang", "reviewer"))
    response = client.get(reverse("indicators:submission-scan", args=[sent.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"MZ\x90\x00 not a scan", "scan.pdf"),
        (b"", "empty.pdf"),
        (b"GIF89a", "scan.gif"),
    ],
)
def test_anything_but_a_pdf_png_or_jpg_is_refused(cast, sent, content, name) -> None:
    count = LogEntry.objects.count()
    with pytest.raises(InvalidInput):
        paper.attach_scan(sent, scan(content, name), actor=cast.user("jingchuan", "clerk"))
    sent.refresh_from_db()
    assert not sent.scan
    assert LogEntry.objects.count() == count


def test_an_oversized_scan_is_refused(cast, sent) -> None:
    big = scan(b"%PDF-" + b"0" * (paper.MAX_SCAN_BYTES + 1))
    with pytest.raises(InvalidInput):
        paper.attach_scan(sent, big, actor=cast.user("jingchuan", "clerk"))


@pytest.mark.parametrize(
    ("unit", "role", "error"),
    [
        ("pingliang", "clerk", Forbidden),  # a clerk above: not their stamp
        ("chongxin", "clerk", NotFound),
        ("jingchuan", "leader", Forbidden),
    ],
)
def test_only_the_submitting_units_clerks_attach_the_scan(cast, sent, unit, role, error) -> None:
    with pytest.raises(error):
        paper.attach_scan(sent, scan(b"%PDF-1.7"), actor=cast.user(unit, role))
    sent.refresh_from_db()
    assert not sent.scan
