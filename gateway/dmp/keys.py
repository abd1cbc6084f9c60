"""What tells a record's dataset, normalised: grant numbers, data numbers, persistent identifiers and titles.

A record's keys are read from its Annex-3 view when it is mapped and stored in `record_keys` with it, so that the
duplicate rule (one dataset, one record: gateway.dmp.gating) and the DMP match (gateway.dmp.matching) look them up by
index. The same normal forms are applied to what a DMP declares, so both sides compare alike:

- a data number: NFKC, case and spaces aside (`Ｄ－０００１` is `d-0001`);
- a persistent identifier: a DOI (`https://doi.org/10.1/X`, `doi:10.1/x` and `10.1/x` are one DOI, DOIs being
  case-insensitive), a Handle or an ARK; a plain URL is not a persistent identifier and is not a key;
- a title: NFKC and case aside, letters and digits only (spaces, punctuation and brackets do not tell datasets apart).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from gateway.commonitems.tables import fold

MAX_VALUE = 600  # the column's length; a longer title is compared by its first characters
JGN, NUMBER, PID, TITLE = "jgn", "number", "pid", "title"
_DOI = re.compile(r"(?:^|(?<=[\s/:(（\[「]))(10\.\d{4,9}/[^\s\"<>,;、。）)\]」]+)", re.I)
_HANDLE = re.compile(r"(?:hdl\.handle\.net/|^hdl:|\bhdl:)([0-9][0-9.]*/[^\s\"<>,;、。）)]+)", re.I)
_ARK = re.compile(r"\b(ark:/?\d{5,}/[^\s\"<>,;、。）)]+)", re.I)


def normal_jgn(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip()


def normal_number(text: str) -> str:
    return fold(text or "")[:MAX_VALUE]


def normal_title(text: str) -> str:
    return "".join(ch for ch in fold(text or "") if ch.isalnum())[:MAX_VALUE]


def pids_in(text: str) -> list[str]:
    """Every persistent identifier written in `text` (a link, a bare DOI, a sentence naming one), normalised."""
    text = unicodedata.normalize("NFKC", text or "")
    found: list[str] = []
    for match in _DOI.finditer(text):
        found.append("doi:" + match.group(1).rstrip(".").lower())
    for match in _HANDLE.finditer(text):
        found.append("hdl:" + match.group(1).rstrip(".").lower())
    for match in _ARK.finditer(text):
        found.append(match.group(1).rstrip(".").lower().replace("ark:/", "ark:"))
    return list(dict.fromkeys(value[:MAX_VALUE] for value in found))


def pid_scheme(value: str) -> str:
    """How a match by this identifier is named: "doi", or "identifier" for the others."""
    return "doi" if value.startswith("doi:") else "identifier"


def _values(view: dict[str, Any], key: str) -> list[str]:
    out = []
    for entry in view.get(key) or []:
        if isinstance(entry, dict):
            out.extend(str(entry.get(k) or "") for k in ("value", "uri"))
        elif entry:
            out.append(str(entry))
    return [v for v in out if v.strip()]


def keys_of_view(view: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(kind, value) of every key of a record, from its Annex-3 view, without repeats."""
    view = view or {}
    jgns = list(dict.fromkeys(j for j in (normal_jgn(v) for v in _values(view, "jgn")) if j))
    numbers = list(dict.fromkeys(n for n in (normal_number(v) for v in _values(view, "data_number")) if n))
    titles = list(dict.fromkeys(t for t in (normal_title(v) for v in _values(view, "title")) if t))
    pids: list[str] = []
    for value in _values(view, "repository_url"):
        pids.extend(pids_in(value))
    out: list[tuple[str, str]] = [(JGN, j) for j in jgns]
    out += [(NUMBER, f"{j}/{n}"[:MAX_VALUE]) for j in jgns for n in numbers]
    out += [(PID, p) for p in dict.fromkeys(pids)]
    out += [(TITLE, f"{j}/{t}"[:MAX_VALUE]) for j in jgns for t in titles]
    return out


def split(keys: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """Keys by kind: {"jgn": {...}, "number": {...}, ...}."""
    out: dict[str, set[str]] = {JGN: set(), NUMBER: set(), PID: set(), TITLE: set()}
    for kind, value in keys:
        out.setdefault(kind, set()).add(value)
    return out


def identity_keys(keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """The keys that make two records one dataset: a persistent identifier, or a data number of a grant number."""
    return {(kind, value) for kind, value in keys if kind in (PID, NUMBER)}
