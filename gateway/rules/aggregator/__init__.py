"""Aggregator quality rules (IRDB / CiNii Research): language tags, identifiers, obsolete values, type-specific needs.

One pass over the tree; the rule table (``mappings/rules/aggregator.toml``) and the vocabularies are loaded once.
Elements are matched by namespace prefix + local name, with every JPCOAR 2.0 namespace spelling normalised to
``jpcoar``, so the rules run the same on a record as received and on the canonical record.

`check` below is the walk; the rules are grouped by what they look at:

- `tables`: the rule table and the COAR vocabularies, and which rules are errors (`ERROR_RULES`);
- `walk`: normalised element names and paths, the findings being made (`Run`), what the walk remembers (`Record`);
- `languages`: xml:lang tags, one value per language, readings (ja-Kana);
- `identifiers`: identifiers, registered DOIs, name identifiers, ISSN / ISBN, award numbers;
- `values`: obsolete values, the COAR access right and version;
- `elements`: the rule of each element name (`HANDLERS`), run as the walk meets it;
- `record`: the rules over the record as a whole (embargo, registrations, versions, theses).

A new rule goes in the module of its group; an element rule is added to `elements.HANDLERS`, a rule over the whole
record to `record.check_record`, and an error (one that blocks publication) to `tables.ERROR_RULES`.
"""

from __future__ import annotations

from lxml import etree

from gateway.rules.aggregator.elements import HANDLERS
from gateway.rules.aggregator.languages import check_lang, insert_sibling_findings
from gateway.rules.aggregator.record import check_record
from gateway.rules.aggregator.tables import ERROR_RULES, tables
from gateway.rules.aggregator.values import check_obsolete
from gateway.rules.aggregator.walk import ELEMENTS, KEYS, XML_LANG, Finding, Record, Run, key_of, text_of

__all__ = ["ERROR_RULES", "Finding", "check", "tables"]


def check(root: etree._Element) -> list[Finding]:
    """Every aggregator rule over one JPCOAR 2.0 record (canonical or as received).

    One walk in document order; per element only a dictionary lookup decides which element rule runs, because this
    runs twice per record (canonical and as received) in every harvest and remap.
    """
    t = tables()
    run = Run()
    rec = Record(root)
    keys = KEYS
    lang_required = t.lang_required
    good_langs = t.good_langs
    obsolete = t.obsolete.items()
    obsolete_elements = {value.getparent() for value in t.obsolete_xpath(root, **t.obsolete_values)}
    handlers = HANDLERS
    out = run.out
    # The sibling rules (one value per language under one parent) only find something where a parent has two children
    # of one name and language, or a reading (ja-Kana) out of place or without its Japanese value: the walk notes such
    # parents, and their findings are made after it and put back where a parent-first walk would have made them.
    lang_unique = t.lang_unique
    slots: dict[etree._Element, int] = {}
    lang_seen: set[tuple[etree._Element, str, str]] = set()
    readings: list[tuple[etree._Element, str, str]] = []
    suspects: dict[etree._Element, None] = {}
    for el in root.iter(ELEMENTS):
        tag = el.tag
        key = keys.get(tag)
        if key is None:
            key = keys[tag] = key_of(tag)
        lang = el.get(XML_LANG)
        if lang is not None:
            if lang not in good_langs:
                check_lang(run, t, el, lang)
            if el is not root:
                seen = (el.getparent(), key, lang)
                if seen not in lang_seen:
                    lang_seen.add(seen)
                elif key in lang_unique:
                    suspects[seen[0]] = None
                if lang == "ja-Kana":
                    readings.append(seen)
        elif key in lang_required:
            text = text_of(el)
            if text:
                run.add("xmllang_not_found", el, f"{key} has no xml:lang / 言語属性がありません", text)
        if len(el):
            slots[el] = len(out)
        if obsolete_elements and el in obsolete_elements:
            for attr, table in obsolete:
                old = el.get(attr)
                if old is not None and old in table:
                    check_obsolete(run, t, el, attr, old, table[old])
        handler = handlers.get(key)
        if handler is not None:
            handler(run, rec, el)
    for parent, key, _ in readings:
        if key in t.yomi_not_needed or (parent, key, "ja") not in lang_seen:
            suspects[parent] = None
    if suspects:
        insert_sibling_findings(run, t, slots, suspects)

    check_record(run, t, rec, root)
    return run.out
