"""Reading a row of the layout (spreadsheet cells, by column key) into an entry (GakuNin RDM key -> value).

Every export form meets in one shape: a GakuNin RDM metadata object already is an entry, and a spreadsheet or CSV
report row becomes one here; building (gateway.commonitems.building) takes it from there.
"""

from __future__ import annotations

from typing import Any

from gateway.commonitems.layout import columns
from gateway.commonitems.problems import Problem, RowError
from gateway.commonitems.values import split_pair


def _split_pair_ja_first(cell: str) -> tuple[str, str]:
    """Like split_pair, but a single value is Japanese whatever its script (titles may be in any script)."""
    text = (cell or "").strip()
    if "|" in text:
        return split_pair(text)
    return text, ""


def entry_from_cells(cells: dict[str, str], problems: list[Problem] | None = None) -> dict[str, Any]:
    """A spreadsheet / CSV-report row (column key -> cell text) as an entry (GRDM key -> value).

    A cell that cannot be read is left out and noted in `problems`; without that list, it is a `RowError`.
    """
    entry: dict[str, Any] = {}
    by_key = {c.key: c for c in columns()}
    names: list[tuple[str, str]] = []
    numbers: list[str] = []
    for key, cell in cells.items():
        column = by_key[key]
        text = (cell or "").strip()
        if column.kind == "bilingual":
            # a single value in a Japanese-first item (title, description, ...) is the Japanese value
            ja, en = _split_pair_ja_first(text) if key in _JA_FIRST else split_pair(text)
            entry[column.grdm[0]], entry[column.grdm[1]] = ja, en
        elif column.kind == "names":
            names = [split_pair(part) for part in text.split(";")] if text else []
        elif column.kind == "numbers":
            numbers = [part.strip() for part in text.split(";")] if text else []
        else:
            entry[column.grdm[0]] = text
    if len(numbers) > len(names) and any(numbers[len(names) :]):
        problem = Problem(
            "creator_erad",
            (cells.get("creator_erad") or "").strip(),
            f"gives {len(numbers)} researcher numbers for {len(names)} creator(s)",
            "one e-Rad researcher number per creator, in the creators' order, separated by ';'",
        )
        if problems is None:
            raise RowError(problem.column or "", problem.message, value=problem.value, expected=problem.expected)
        problems.append(problem)
        numbers = []  # which number belongs to whom cannot be told: none is kept
    entry["grdm-file:creators"] = [
        {"name_ja": ja, "name_en": en, "number": numbers[i] if i < len(numbers) else ""}
        for i, (ja, en) in enumerate(names)
    ]
    return entry


# Items whose Japanese value is the required one: a cell without "|" holds it whatever its script.
_JA_FIRST = {"title", "description", "citation", "remarks", "repository"}
