"""The translation catalogues: complete, placeholder-safe, compiled, and actually used.

Chinese is the source language (the msgids); kechuang/locale/<lang>/LC_MESSAGES/django.po
holds the other languages. `make messages` re-extracts and compiles them.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import polib
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from conftest import PASSWORD

LOCALE = Path(__file__).resolve().parent.parent / "kechuang" / "locale"
PO_FILES = sorted(LOCALE.glob("*/LC_MESSAGES/django.po"))


def language_of(po_path: Path) -> str:
    return po_path.parent.parent.name


po_files = pytest.mark.parametrize("po_path", PO_FILES, ids=language_of)

# printf-style conversions as Python's % operator reads them, "%%" included (then dropped).
PERCENT = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]"
)
TEMPLATE_VARIABLE = re.compile(r"\{\{\s*([\w.]+)\s*\}\}")
BRACE_FIELD = re.compile(r"(?<!\{)\{([\w.]*)(?:![rsa])?(?::[^{}]*)?\}(?!\})")


def placeholders(text: str, flags: list[str]) -> Counter[str]:
    """The placeholders in ``text``, each spelled as in the text: %(n)d, %s, {{ n }}, {n}.

    Every %-conversion counts in a python-format entry; elsewhere a lone "%" can
    be plain text, so only named ones (%(name)s) count there.
    """
    found: Counter[str] = Counter()
    for match in PERCENT.finditer(text):
        if match.group(0) == "%%":
            continue
        if "python-format" in flags or match.group("name") is not None:
            found[match.group(0)] += 1
    for match in TEMPLATE_VARIABLE.finditer(text):
        found["{{ " + match.group(1) + " }}"] += 1
    if "python-brace-format" in flags:
        for match in BRACE_FIELD.finditer(text):
            found["{" + match.group(1) + "}"] += 1
    return found


def live_entries(po: polib.POFile) -> list[polib.POEntry]:
    return [entry for entry in po if not entry.obsolete]


def test_the_english_catalogue_exists() -> None:
    assert "en" in {language_of(path) for path in PO_FILES}


def test_placeholders_are_found() -> None:
    python = ["python-format"]
    assert placeholders("第 %(n)s / %(total)s 页", python) == Counter(["%(n)s", "%(total)s"])
    assert placeholders("%(n)d 类，%s 与 %5.1f，100%%", python) == Counter(["%(n)d", "%s", "%5.1f"])
    assert placeholders("共 {{ n }} 个 {{n}}", []) == Counter(["{{ n }}", "{{ n }}"])
    assert placeholders("100% 完成 %(u)s", []) == Counter(["%(u)s"])
    assert placeholders("{name} {{ x }}", ["python-brace-format"]) == Counter(["{name}", "{{ x }}"])


@po_files
def test_every_entry_is_translated_and_not_fuzzy(po_path: Path) -> None:
    po = polib.pofile(str(po_path))
    assert not po.metadata_is_fuzzy, "the header is still marked fuzzy"
    entries = live_entries(po)
    assert entries, f"{po_path} has no entries"
    fuzzy = [entry.msgid for entry in entries if "fuzzy" in entry.flags]
    assert not fuzzy, f"fuzzy entries: {fuzzy}"
    untranslated = []
    for entry in entries:
        if entry.msgid_plural:
            nplurals = int(re.search(r"nplurals\s*=\s*(\d+)", po.metadata["Plural-Forms"])[1])
            forms = [entry.msgstr_plural.get(i, "") for i in range(nplurals)]
            if not all(form.strip() for form in forms):
                untranslated.append(entry.msgid)
        elif not entry.msgstr.strip():
            untranslated.append(entry.msgid)
    assert not untranslated, f"untranslated entries: {untranslated}"


@po_files
def test_translations_keep_the_placeholders(po_path: Path) -> None:
    mismatches = []
    for entry in live_entries(polib.pofile(str(po_path))):
        if entry.msgid_plural:
            # Form 0 is the singular (msgid); the others follow msgid_plural.
            pairs = [
                (entry.msgid if index == 0 else entry.msgid_plural, msgstr)
                for index, msgstr in sorted(entry.msgstr_plural.items())
            ]
        else:
            pairs = [(entry.msgid, entry.msgstr)]
        for source, translated in pairs:
            expected = placeholders(source, entry.flags)
            actual = placeholders(translated, entry.flags)
            if expected != actual:
                mismatches.append((source, translated, dict(expected), dict(actual)))
    assert not mismatches, mismatches


def catalogue(mo: polib.MOFile) -> set[tuple[Any, ...]]:
    return {
        (
            entry.msgctxt,
            entry.msgid,
            entry.msgid_plural,
            entry.msgstr,
            tuple(sorted(entry.msgstr_plural.items())),
        )
        for entry in mo
    }


@po_files
def test_the_committed_mo_is_compiled_from_the_po(po_path: Path, tmp_path: Path) -> None:
    committed = po_path.with_suffix(".mo")
    assert committed.exists(), f"{committed} is missing: run scripts/compile_messages.py"
    fresh = tmp_path / "django.mo"
    polib.pofile(str(po_path)).save_as_mofile(str(fresh))
    expected, actual = polib.mofile(str(fresh)), polib.mofile(str(committed))
    stale = catalogue(expected) ^ catalogue(actual)
    assert not stale, f"{committed} is out of date (make messages): {sorted(stale, key=str)[:5]}"
    assert actual.metadata == expected.metadata


def test_the_navigation_names_match_the_page_tests() -> None:
    # tests/test_browser.py finds the English navigation by these words.
    with translation.override("en"):
        assert translation.gettext("主导航") == "Main navigation"
        assert translation.gettext("组织单位") == "Org units"


@pytest.fixture
def clerk_client(cast: Any) -> Client:
    client = Client()
    assert client.login(username="jingchuan_clerk", password=PASSWORD)
    return client


def test_the_home_page_switches_to_english(clerk_client: Client) -> None:
    response = clerk_client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    page = clerk_client.get(reverse("home"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'lang="en"' in html
    assert 'aria-label="Main navigation"' in html
    assert "Org units" in html
    assert "组织单位" not in html
    assert page["Content-Language"] == "en"


def test_the_home_page_is_chinese_whatever_the_browser_asks(clerk_client: Client) -> None:
    page = clerk_client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'lang="zh-hans"' in html
    assert "组织单位" in html
    assert "Org units" not in html
    assert page["Content-Language"] == "zh-hans"
