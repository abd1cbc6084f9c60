"""The language rules: well-formed xml:lang tags, one value per language under one parent, and readings (ja-Kana)
only where they belong and only with their Japanese value."""

from __future__ import annotations

from lxml import etree

from gateway.rules import ids
from gateway.rules.aggregator.tables import Tables
from gateway.rules.aggregator.walk import XML_LANG, Run, key, path_of, text_of

#: the most well-formed tags remembered (a record repeats a handful of tags on most of its elements)
GOOD_LANGS_MAX = 10_000


def check_lang(run: Run, t: Tables, el: etree._Element, lang: str) -> None:
    if lang in t.wrong_tags:
        run.add("xmllang_invalid", el, f'xml:lang="{lang}" is not a language tag: use "{t.wrong_tags[lang]}"', lang)
    elif not ids.lang_tag_shape_ok(lang):
        run.add("xmllang_invalid", el, f'xml:lang="{lang}" is not a BCP 47 language tag / 言語タグが不正です', lang)
    elif len(t.good_langs) < GOOD_LANGS_MAX:
        t.good_langs.add(lang)


def check_siblings(run: Run, t: Tables, parent: etree._Element) -> None:
    """Per element name under one parent: one value per language, no reading without its Japanese value."""
    seen: dict[str, set[str]] = {}
    for child in parent:
        lang = child.get(XML_LANG)
        if lang is None:
            continue
        name = key(child)
        if not name:
            continue
        langs = seen.setdefault(name, set())
        if lang in langs and name in t.lang_unique:
            run.add(
                "xmllang_duplicated",
                child,
                f'two {name} in xml:lang="{lang}" / 同じ言語の値が重複しています',
                text_of(child),
            )
        langs.add(lang)
        if lang == "ja-Kana" and name in t.yomi_not_needed:
            run.add(
                "yomi_not_needed",
                child,
                f"{name}: the reading (ja-Kana) belongs on the full name, not here",
                text_of(child),
            )
    for name, langs in seen.items():
        if "ja-Kana" in langs and "ja" not in langs:
            run.add(
                "noja_with_yomi",
                None,
                f"{name} has a reading (ja-Kana) but no Japanese value / 読みに対応する日本語がありません",
                path=f"{path_of(parent)}/{name}",
            )


def insert_sibling_findings(
    run: Run,
    t: Tables,
    slots: dict[etree._Element, int],
    parents: dict[etree._Element, None],
) -> None:
    """The sibling rules' findings of the parents the walk noted, each put where a parent-first walk would make it."""
    visit_order = {parent: order for order, parent in enumerate(slots)}
    inserts = []
    for parent in parents:
        found = Run()
        check_siblings(found, t, parent)
        if found.out:
            inserts.append((slots[parent], visit_order[parent], found.out))
    # From the end backwards, so that earlier slots keep their index; a parent visited earlier goes first.
    for slot, _, findings in sorted(inserts, reverse=True):
        run.out[slot:slot] = findings
