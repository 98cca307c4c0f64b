"""The Russian, Spanish and Arabic catalogues stay complete, compiled and consistent.

English is the source language, so its catalogue may keep empty msgstr. See
docs/translations.md for how to add and regenerate strings.
"""

from __future__ import annotations

import gettext as gnu_gettext
import re
from collections import Counter
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation

LANGUAGES = ["ru", "es", "ar"]
LOCALE_DIR = Path(settings.BASE_DIR) / "locale"

# Plural form chosen for sample counts: the CLDR rules each Plural-Forms header must encode.
PLURAL_SAMPLES = {
    "ru": {1: 0, 21: 0, 2: 1, 4: 1, 22: 1, 0: 2, 5: 2, 11: 2, 12: 2, 14: 2, 111: 2},
    "es": {1: 0, 1_000_000: 1, 0: 2, 2: 2, 21: 2},
    "ar": {0: 0, 1: 1, 2: 2, 3: 3, 10: 3, 103: 3, 11: 4, 99: 4, 100: 5, 101: 5, 102: 5},
}

# %(name)s, %s, %d, %5.2f...; "%%" is a literal percent sign and not a placeholder.
PLACEHOLDER = re.compile(r"%%|%(?:\([^)]*\))?[#0+-]*\d*(?:\.\d+)?[sdifr]")


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / "django.po"


def load_po(lang: str) -> polib.POFile:
    return polib.pofile(str(po_path(lang)))


def live_entries(po: polib.POFile) -> list[polib.POEntry]:
    return [entry for entry in po if not entry.obsolete]


def nplurals(po: polib.POFile) -> int:
    match = re.search(r"nplurals\s*=\s*(\d+)", po.metadata.get("Plural-Forms", ""))
    assert match, "the catalogue has no Plural-Forms header"
    return int(match.group(1))


def placeholders(text: str) -> Counter[str]:
    return Counter(token for token in PLACEHOLDER.findall(text) if token != "%%")


def describe(entry: polib.POEntry) -> str:
    where = ", ".join(f"{path}:{line}" for path, line in entry.occurrences[:3])
    return f"{entry.msgid!r} ({where})" if where else repr(entry.msgid)


def key(entry) -> tuple[str, str]:
    return (entry.msgctxt or "", entry.msgid)


def value(entry) -> str | tuple[str, ...]:
    if entry.msgid_plural:
        return tuple(entry.msgstr_plural[index] for index in sorted(entry.msgstr_plural))
    return entry.msgstr


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_string_is_translated_and_none_is_fuzzy(lang):
    po = load_po(lang)
    forms = nplurals(po)
    entries = live_entries(po)
    assert entries, f"{po_path(lang)} has no entries: run makemessages"
    assert not po.metadata_is_fuzzy, f"{lang}: the header is marked fuzzy"

    fuzzy = [describe(entry) for entry in entries if "fuzzy" in entry.flags]
    untranslated = []
    for entry in entries:
        if entry.msgid_plural:
            complete = sorted(entry.msgstr_plural) == list(range(forms)) and all(entry.msgstr_plural.values())
        else:
            complete = bool(entry.msgstr)
        if not complete:
            untranslated.append(describe(entry))

    problems = [f"untranslated: {entry}" for entry in untranslated] + [f"fuzzy: {entry}" for entry in fuzzy]
    assert not problems, f"{lang}: {len(problems)} entries need a translator:\n" + "\n".join(problems)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_plural_forms_header_follows_the_language_rules(lang):
    po = load_po(lang)
    header = po.metadata.get("Plural-Forms", "")
    expression = header.split("plural=", 1)[1].rstrip().rstrip(";")
    rule = gnu_gettext.c2py(expression)

    assert po.metadata.get("Language") == lang
    assert nplurals(po) == max(PLURAL_SAMPLES[lang].values()) + 1
    wrong = {n: rule(n) for n, form in PLURAL_SAMPLES[lang].items() if rule(n) != form}
    assert not wrong, f"{lang}: Plural-Forms picks the wrong form for {wrong} ({header})"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_mo_file_is_compiled_from_the_current_po(lang):
    po = load_po(lang)
    mo_path = po_path(lang).with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path} is missing: run compilemessages and commit it"

    expected = {key(entry): value(entry) for entry in po.translated_entries()}
    compiled = {key(entry): value(entry) for entry in polib.mofile(str(mo_path)) if entry.msgid}

    stale = sorted(
        repr(msgid) for msgid in expected.keys() | compiled.keys() if expected.get(msgid) != compiled.get(msgid)
    )
    assert not stale, (
        f"{mo_path} does not match {po_path(lang).name}; run compilemessages. Differing entries:\n" + "\n".join(stale)
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_placeholders_survive_translation(lang):
    offenders = []
    for entry in live_entries(load_po(lang)):
        if entry.msgid_plural:
            # Python %-formatting ignores unused names, so a form may leave out a named
            # placeholder (Arabic "one" and "two"), but it may not invent one, and the
            # general plural form must keep them all.
            allowed = placeholders(entry.msgid) | placeholders(entry.msgid_plural)
            expected = placeholders(entry.msgid_plural)
            forms = [entry.msgstr_plural[index] for index in sorted(entry.msgstr_plural)]
            for index, form in enumerate(forms):
                found = placeholders(form)
                positional = sum(count for token, count in found.items() if not token.startswith("%("))
                expected_positional = sum(count for token, count in expected.items() if not token.startswith("%("))
                if form and (set(found) - set(allowed) or positional != expected_positional):
                    offenders.append(f"{describe(entry)} msgstr[{index}] = {form!r}")
            if forms and forms[-1] and placeholders(forms[-1]) != expected:
                offenders.append(f"{describe(entry)} msgstr[{len(forms) - 1}] = {forms[-1]!r}")
        elif entry.msgstr and placeholders(entry.msgstr) != placeholders(entry.msgid):
            offenders.append(f"{describe(entry)} -> {entry.msgstr!r}")

    assert not offenders, f"{lang}: placeholders differ from the source:\n" + "\n".join(offenders)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_django_serves_the_translation(lang):
    entry = load_po(lang).find("Sign in")
    assert entry is not None, "'Sign in' is no longer in the catalogue: pick another known string"
    assert entry.msgstr and entry.msgstr != "Sign in"

    with translation.override(lang):
        assert translation.gettext("Sign in") == entry.msgstr


@pytest.mark.parametrize("lang", LANGUAGES)
def test_django_picks_the_right_plural_form(lang):
    po = load_po(lang)
    entry = next((entry for entry in po.translated_entries() if entry.msgid_plural), None)
    if entry is None:
        pytest.skip("no plural strings in the catalogue")

    with translation.override(lang):
        for n, form in PLURAL_SAMPLES[lang].items():
            assert translation.ngettext(entry.msgid, entry.msgid_plural, n) == entry.msgstr_plural[form], (lang, n)
