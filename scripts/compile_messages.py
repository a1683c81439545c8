"""Compile every kechuang/locale/*/LC_MESSAGES/django.po to django.mo with polib.

Django's `compilemessages` needs GNU gettext's msgfmt; polib does the same in
pure Python, so a fresh checkout (or CI) needs nothing beyond the venv. Fuzzy
and untranslated entries are left out of the .mo, as msgfmt would.

    .venv/bin/python scripts/compile_messages.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "kechuang" / "locale"


def compile_all(locale_dir: Path = LOCALE) -> list[Path]:
    """Write django.mo next to each django.po; return the .mo paths written."""
    written = []
    for po_path in sorted(locale_dir.glob("*/LC_MESSAGES/django.po")):
        mo_path = po_path.with_suffix(".mo")
        polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
        written.append(mo_path)
    return written


def main() -> int:
    written = compile_all()
    if not written:
        sys.stderr.write(f"no django.po under {LOCALE}\n")
        return 1
    for mo_path in written:
        sys.stdout.write(f"compiled {mo_path.relative_to(ROOT)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
