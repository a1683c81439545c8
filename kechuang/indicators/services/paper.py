"""The paper copy: print a submission for signing and stamping; attach the stamped scan."""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from kechuang.audit import services as audit
from kechuang.core.authorization import Action, require
from kechuang.core.errors import Forbidden, InvalidInput
from kechuang.indicators.models import Submission
from kechuang.indicators.printing import render_submission_pdf
from kechuang.indicators.services.workflow import values_digest

MAX_SCAN_BYTES = 20 * 1024 * 1024
# What a scan may be, told by its first bytes (the name and the browser's word are not trusted).
SCAN_KINDS = {b"%PDF-": ".pdf", b"\x89PNG\r\n\x1a\n": ".png", b"\xff\xd8\xff": ".jpg"}


def print_submission(submission: Submission, *, actor: Any) -> bytes:
    """The PDF form of the submission's current values."""
    return render_submission_pdf(
        submission, digest=values_digest(submission), printed_by=audit.actor_label(actor)
    )


@transaction.atomic
def attach_scan(submission: Submission, upload: UploadedFile, *, actor: Any) -> Submission:
    """Keep the scan of the signed and stamped paper copy with the submission."""
    require(actor, Action.ENTER_DATA, submission.org_unit)
    if actor is not None and not actor.is_superuser and actor.org_unit_id != submission.org_unit_id:
        # The stamp is the submitting unit's; a clerk above it has nothing to attach.
        raise Forbidden(_("只有填报单位可以上传本单位的盖章扫描件。"))
    if upload.size is None or upload.size > MAX_SCAN_BYTES:
        raise InvalidInput(_("扫描件不能超过 20 MB。"), fields={"scan": [_("文件过大")]})
    head = upload.read(16)
    upload.seek(0)
    suffix = next((ext for magic, ext in SCAN_KINDS.items() if head.startswith(magic)), None)
    if suffix is None:
        raise InvalidInput(
            _("扫描件须为 PDF、PNG 或 JPG 文件。"), fields={"scan": [_("格式不支持")]}
        )
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    before = submission.scan.name or None
    name = f"{submission.org_unit.code}-{submission.year}-{submission.dataset.code}{suffix}"
    submission.scan.save(name, upload, save=True)
    audit.record(
        actor,
        "indicators.submission.scan",
        submission,
        before={"scan": before},
        after={"scan": submission.scan.name},
        data={"sha256": digest.hexdigest(), "bytes": upload.size, "original_name": upload.name},
    )
    return submission
