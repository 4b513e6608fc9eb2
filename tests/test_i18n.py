"""Translations: the committed .mo files match their .po sources, and pages really switch to English.

GNU gettext is not needed here: polib reads both files (see scripts/compile_messages.py).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import polib
import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

ROOT = Path(settings.BASE_DIR)
LOCALE = ROOT / "zhucheng" / "locale"
PO_FILES = sorted(LOCALE.glob("*/LC_MESSAGES/*.po"))
_PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?[sdifr%]")


def _compile_script() -> Any:
    spec = importlib.util.spec_from_file_location("compile_messages", ROOT / "scripts" / "compile_messages.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _placeholders(text: str) -> list[str]:
    return sorted(m.group(0) if not m.group(1) else f"%({m.group(1)})" for m in _PLACEHOLDER.finditer(text) if m.group(0) != "%%")


def test_english_catalog_exists() -> None:
    assert LOCALE / "en" / "LC_MESSAGES" / "django.po" in PO_FILES


@pytest.mark.parametrize("po_path", PO_FILES, ids=lambda p: str(p.relative_to(LOCALE)))
def test_mo_matches_po(po_path: Path) -> None:
    """A .po edited without recompiling leaves the old text on screen: catch it here."""
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path} is missing: run python scripts/compile_messages.py"
    script = _compile_script()
    from_po = script.catalog_entries(polib.pofile(str(po_path)))
    from_mo = script.catalog_entries(polib.mofile(str(mo_path)))
    missing = sorted(set(from_po) - set(from_mo))[:5]
    extra = sorted(set(from_mo) - set(from_po))[:5]
    changed = sorted(k for k in set(from_po) & set(from_mo) if from_po[k] != from_mo[k])[:5]
    assert from_po == from_mo, (
        f"{mo_path.name} is out of sync with {po_path.name} (run python scripts/compile_messages.py): "
        f"missing {missing}, extra {extra}, changed {changed}"
    )
    # And the script's own check agrees.
    assert not script.is_stale(po_path)


@pytest.mark.parametrize("po_path", PO_FILES, ids=lambda p: str(p.relative_to(LOCALE)))
def test_every_message_is_translated_with_the_same_placeholders(po_path: Path) -> None:
    po = polib.pofile(str(po_path))
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not untranslated, f"{len(untranslated)} untranslated in {po_path}, e.g. {untranslated[:5]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy in {po_path}, e.g. {fuzzy[:5]}"
    wrong = []
    for entry in po.translated_entries():
        wanted = _placeholders(entry.msgid)
        forms = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        wrong.extend((entry.msgid, form) for form in forms if _placeholders(form) != wanted)
    # A translation that drops or renames %(name)s crashes or misleads at run time.
    assert not wrong, f"placeholders differ from the msgid: {wrong[:5]}"


def test_python_strings_translate() -> None:
    from zhucheng.places.models import OrgUnitKind, Role

    with translation.override("en"):
        assert str(OrgUnitKind.GRID.label) == "Grid"
        assert str(Role.COMMUNITY_STAFF.label) == "Community staff"
    with translation.override("zh-hans"):
        assert str(OrgUnitKind.GRID.label) == "网格"


@pytest.mark.django_db
def test_login_page_is_chinese_by_default(client: Client) -> None:
    html = client.get("/accounts/login/").content.decode()
    assert '<html lang="zh-hans">' in html
    assert "工作人员登录" in html
    assert "筑城 · 社会治理平台" in html
    assert "Staff login" not in html


@pytest.mark.django_db
def test_language_switch_renders_english(client: Client) -> None:
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302
    html = client.get("/accounts/login/").content.decode()
    assert '<html lang="en">' in html
    assert "Staff login" in html
    assert ">Log in</button>" in html
    assert "Zhucheng · Social Governance Platform" in html
    assert "工作人员登录" not in html
    # The resident pages too, including the form labels that come from Python code.
    html = client.get("/accounts/resident/register/").content.decode()
    assert "Resident registration" in html
    assert "Send code" in html
    assert "Mobile number" in html


@pytest.mark.django_db
def test_error_page_in_english(client: Client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


@pytest.mark.parametrize(("language", "heading"), [("zh-hans", "服务器出错"), ("en", "Server error")])
def test_500_page_renders_without_request_or_database(language: str, heading: str) -> None:
    """The 500 page must render when the database is down: no request, no context processors."""
    from django.template.loader import render_to_string

    with translation.override(language):
        html = render_to_string("errors/500.html")
    assert heading in html
    assert f'lang="{language}"' in html
