#!/usr/bin/env python3
"""Compile zhucheng/locale/*/LC_MESSAGES/*.po into .mo files with polib (no GNU gettext needed).

The .mo files are committed, so running the platform needs neither gettext nor this script;
``tests/test_i18n.py`` fails when a .mo no longer matches its .po. Usage::

    python scripts/compile_messages.py            # write every .mo whose content changed
    python scripts/compile_messages.py --check    # exit 1 if any .mo is missing or stale

To pick up new strings from the code first (needs GNU gettext's xgettext, e.g. ``apt-get
install gettext``), then translate the new empty msgstr entries in the .po and compile::

    python manage.py makemessages -l en --add-location=file --no-obsolete \
        --ignore=node_modules --ignore=var --ignore=bench --ignore=tests --ignore=docs --ignore=scripts
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

try:
    import polib
except ImportError:  # pragma: no cover - only when the dev dependencies are missing
    sys.exit("polib is not installed: pip install polib")

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "zhucheng" / "locale"


def catalog_entries(catalog: polib.POFile | polib.MOFile) -> dict[tuple[str, str], tuple[str, ...]]:
    """What a catalog translates: (context, msgid) -> msgstr or the plural forms, header excluded.

    Fuzzy and untranslated .po entries are left out, as msgfmt and polib leave them out of a .mo.
    """
    entries: dict[tuple[str, str], tuple[str, ...]] = {}
    for entry in catalog:
        if not entry.msgid or entry.obsolete or "fuzzy" in entry.flags:
            continue
        if entry.msgid_plural:
            forms = tuple(entry.msgstr_plural[k] for k in sorted(entry.msgstr_plural))
            if not all(forms):
                continue
            entries[(entry.msgctxt or "", entry.msgid)] = forms
        elif entry.msgstr:
            entries[(entry.msgctxt or "", entry.msgid)] = (entry.msgstr,)
    return entries


def po_files() -> list[Path]:
    return sorted(LOCALE.glob("*/LC_MESSAGES/*.po"))


def is_stale(po_path: Path) -> bool:
    mo_path = po_path.with_suffix(".mo")
    if not mo_path.exists():
        return True
    return catalog_entries(polib.pofile(str(po_path))) != catalog_entries(polib.mofile(str(mo_path)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when a .mo is missing or stale")
    args = parser.parse_args()

    stale = [p for p in po_files() if is_stale(p)]
    if args.check:
        for p in stale:
            print(f"stale: {p.with_suffix('.mo').relative_to(ROOT)} (run scripts/compile_messages.py)")
        return 1 if stale else 0
    for p in stale:
        po = polib.pofile(str(p))
        untranslated = len(po.untranslated_entries()) + len(po.fuzzy_entries())
        po.save_as_mofile(str(p.with_suffix(".mo")))
        note = f", {untranslated} not translated yet" if untranslated else ""
        print(f"compiled: {p.relative_to(ROOT)} ({len(po.translated_entries())} messages{note})")
    if not stale:
        print("all .mo files are up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
