"""The rule table (``mappings/rules/aggregator.toml``) and the COAR vocabularies the rules read, loaded once.

`ERROR_RULES` says which rules block publication; the table says which elements need a language, which take one value
per language, where a reading is out of place, which language tags are wrong and which values are obsolete.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache

from lxml import etree

from gateway import crosswalk

# Errors block publication; everything else is a warning.  A missing xml:lang is a warning: oai_dc sources cannot
# say the language and the gateway does not guess it.  A rule not listed here is a warning: the aggregator
# accepts such a record and shows it, so withholding it would hide research data for a cosmetic reason.
ERROR_RULES = frozenset(
    {
        "xmllang_duplicated",
        "xmllang_invalid",
        "noja_with_yomi",
        "identifier_type_mismatch",
        "identifier_registration_type_mismatch",
        "identifier_registration_mismatch",
        "name_identifier_mismatch",
        "award_number_format",
        "award_number_type_not_supported",
        "funder_name_not_found",
        "access_rights_without_rdf_resource",
        "access_rights_wrong_uri",
        "access_rights_mismatch",
        "embargoed_without_available_date",
        "version_type_mismatch",
        "contributor_type_not_found",
        "dissertation_details_not_found",
        "no_creator_in_thesis",
        "degree_grantor_kakenhi_missing",
    }
)


class Tables:
    def __init__(self) -> None:
        path = crosswalk.MAPPINGS_DIR / "rules" / "aggregator.toml"
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        self.lang_required = frozenset(data["lang_required"])
        self.lang_unique = frozenset(data["lang_unique"])
        self.yomi_not_needed = frozenset(data["yomi_not_needed"])
        self.wrong_tags: dict[str, str] = dict(data["wrong_language_tags"])
        self.obsolete: dict[str, dict[str, str]] = {k: dict(v) for k, v in data["obsolete"].items()}
        self.obsolete_except: dict[str, set[str]] = {k: set(v) for k, v in data["obsolete_except_in"].items()}
        # One compiled XPath finds the attributes holding an obsolete value (almost always none), instead of asking
        # every element for every attribute; the values are XPath variables, so no quoting of config text is needed.
        paths, self.obsolete_values = [], {}
        for attr, table in self.obsolete.items():
            tests = []
            for old in table:
                name = f"v{len(self.obsolete_values)}"
                self.obsolete_values[name] = old
                tests.append(f".=${name}")
            if tests:
                paths.append(f"descendant-or-self::*/@{attr}[{' or '.join(tests)}]")
        self.obsolete_xpath = etree.XPath(" | ".join(paths) or "/..")
        # Language tags already found well-formed: a record repeats a handful of tags on most of its elements.
        self.good_langs: set[str] = set()
        vocab = crosswalk.MAPPINGS_DIR / "vocab"
        self.access = {
            e.get("uri"): e.get("label") for e in etree.parse(str(vocab / "coar_access_rights.xml")).iter("right")
        }
        self.versions = {
            e.get("uri"): e.get("label") for e in etree.parse(str(vocab / "coar_versions.xml")).iter("version")
        }


@lru_cache(maxsize=1)
def tables() -> Tables:
    return Tables()
