"""The mapping stage produces exactly what it produced before it was made faster, over a corpus of thousands of inputs.

tests/support/equivalence.py builds the corpus (fixtures, examples, the shared reference records, the benchmark record
and seeded mutations of them) and fingerprints `pipeline.map_record` for each input: the canonical record, every
rendering, the Annex-3 view and summary, and the findings of the mapping and validation layers.  The expectations in
tests/fixtures/equivalence/expected.tsv.gz were recorded from the code before the change and are never re-recorded.

An input whose bytes differ from the recorded ones (a fixture someone edited) cannot be compared and is left out; an
input that is new (a fixture someone added) has no expectation and is left out too.  Either may only concern a small
part of the corpus, or the comparison would prove too little.

The last test proves, over the same corpus, that each secondary rendering (jpcoar_1.0, oai_dc) of a schema-valid
canonical record is itself schema-valid -- the ground on which the pipeline may skip validating them -- with one
known exception: a datacite:date of a day the calendar does not have (2025-02-30) matches the 2.0 schema's date
pattern, and jpcoar_1.0_out.xsl's day pattern too, but not the xs:date of the 1.0 schema.  Such a record's jpcoar_1.0
rendering is invalid, so a pipeline that skips validating renderings must still check that (or the stylesheet must
drop such dates, which changes its output).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from typing import Any

import pytest

from gateway import crosswalk
from gateway.rules import ids
from gateway.validate import check_schema
from gateway.xmlsafe import parse_bytes
from tests.support import equivalence as eq

# Inputs of the recorded corpus that may be missing or changed before the comparison is refused as too partial.
_MAX_DRIFT = 0.05
SECONDARY = ("jpcoar_1.0", "oai_dc")
_DATACITE_DATE = "'{https://schema.datacite.org/meta/kernel-4/}date': '"
_REJECTED_VALUE = re.compile(r"': '(\d{4}-\d{2}-\d{2})' is not a valid value")
# A rule changed on purpose since the recording: AMED's Japan Grant Numbers carry lower-case program letters
# (JP21km0908001), which the recorded code refused. An input whose findings differ is compared again with the rule
# as it was recorded; it is an intended change only if everything then matches.
_RECORDED_JGN = re.compile(r"^JP[0-9A-Z]{4,}$")


def _impossible_day(prefix: str, message: str) -> bool:
    """The known counter-example: jpcoar_1.0 rejects a datacite:date of a day that does not exist."""
    found = _REJECTED_VALUE.search(message)
    if prefix != "jpcoar_1.0" or _DATACITE_DATE not in message or found is None:
        return False
    try:
        date.fromisoformat(found.group(1))
    except ValueError:
        return True
    return False


@pytest.fixture(scope="module")
def expected() -> dict[str, tuple[str, dict[str, str]]]:
    if not eq.EXPECTED.exists():
        pytest.fail(f"{eq.EXPECTED} is missing: the expectations must come from the code before the change")
    return eq.read_expected()


@pytest.fixture(scope="module")
def comparable(expected: dict[str, tuple[str, dict[str, str]]]) -> list[eq.Input]:
    items = eq.corpus()
    present = {item.id: item for item in items}
    if not eq.shared_reference().is_dir():
        print(f"equivalence: the shared reference folder {eq.shared_reference()} is absent; its inputs are skipped")
        expected = {k: v for k, v in expected.items() if not k.startswith("reference/")}
    missing = [ident for ident in expected if ident not in present]
    changed = [ident for ident in expected if ident in present and present[ident].digest != expected[ident][0]]
    drift = (len(missing) + len(changed)) / max(len(expected), 1)
    assert drift <= _MAX_DRIFT, (
        f"the corpus drifted from the recorded one: {len(missing)} inputs missing (e.g. {missing[:5]}), "
        f"{len(changed)} with other bytes (e.g. {changed[:5]})"
    )
    return [item for item in items if item.id in expected and item.digest == expected[item.id][0]]


@pytest.fixture(scope="module")
def mapped(comparable: list[eq.Input]) -> dict[str, Any]:
    return {item.id: eq.map_input(item) for item in comparable}


def test_corpus_is_large_and_varied(comparable: list[eq.Input]) -> None:
    kinds = Counter("mutant" if "~" in item.id else item.id.partition("/")[0] for item in comparable)
    assert kinds["mutant"] >= 2000, kinds
    assert len(comparable) >= 2500, kinds


def test_mapping_outputs_are_unchanged(
    comparable: list[eq.Input],
    mapped: dict[str, Any],
    expected: dict[str, tuple[str, dict[str, str]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    differences, intended = [], []
    for item in comparable:
        got = eq.fingerprint(mapped[item.id])
        want = expected[item.id][1]
        parts = [part for part in eq.PARTS if got[part] != want[part]]
        if parts == ["findings"]:
            with monkeypatch.context() as patch:
                patch.setattr(ids, "_JGN", _RECORDED_JGN)
                if eq.fingerprint(eq.map_input(item)) == want:
                    intended.append(item.id)
                    continue
        if parts:
            differences.append(f"{item.id}: {', '.join(parts)}")
    assert not differences, f"{len(differences)} of {len(comparable)} inputs map differently:\n" + "\n".join(
        differences[:30]
    )
    assert len(intended) < 20, f"the JGN rule's change explains {len(intended)} inputs: more than its mutants"


def test_secondary_outputs_of_a_valid_canonical_record_are_valid(
    comparable: list[eq.Input], mapped: dict[str, Any]
) -> None:
    valid_canonical = 0
    known: list[str] = []
    counter_examples = []
    for item in comparable:
        result = mapped[item.id]
        if result.canonical is None:
            continue
        canonical = parse_bytes(result.canonical)
        if check_schema(canonical, crosswalk.CANONICAL_PREFIX):
            continue
        valid_canonical += 1
        for prefix in SECONDARY:
            issues = check_schema(parse_bytes(result.outputs[prefix]), prefix)
            unexplained = [issue for issue in issues if not _impossible_day(prefix, issue["message"])]
            if unexplained:
                counter_examples.append(f"{item.id} -> {prefix}: {unexplained[0]['message']}")
            elif issues:
                known.append(item.id)
    print(
        f"equivalence: {valid_canonical} schema-valid canonical records; renderings invalid: {len(known)} by a day "
        f"that does not exist (jpcoar_1.0), {len(counter_examples)} otherwise"
    )
    assert valid_canonical >= 1000
    assert not counter_examples, "\n".join(counter_examples[:30])


def test_the_proven_stylesheets_are_the_ones_the_proof_ran_on() -> None:
    """formats.toml marks an output stylesheet as proven by its digest: after an edit, the proof above must pass again
    and the digest be updated; until then the gateway validates that format's output at run time."""
    import tomllib

    table = tomllib.loads((crosswalk.MAPPINGS_DIR / "formats.toml").read_text(encoding="utf-8"))["formats"]
    proven = {prefix for prefix, entry in table.items() if entry.get("proven_sha256")}
    assert proven == set(SECONDARY)
    for prefix in proven:
        digest = crosswalk.stylesheet_digest(table[prefix]["out"])
        assert table[prefix]["proven_sha256"] == digest, (
            f"{table[prefix]['out']} changed since it was proven: run this test file, then set proven_sha256 = "
            f'"{digest}" for {prefix} in mappings/formats.toml'
        )
        assert crosswalk.formats()[prefix].proven


def test_a_changed_stylesheet_is_validated_again(tmp_path, monkeypatch) -> None:
    import shutil

    copy = tmp_path / "mappings"
    shutil.copytree(crosswalk.MAPPINGS_DIR, copy)
    out = copy / "oai_dc_out.xsl"
    out.write_text(out.read_text(encoding="utf-8").replace("</xsl:stylesheet>", "<!-- edited -->\n</xsl:stylesheet>"))
    monkeypatch.setenv("GATEWAY_MAPPINGS_DIR", str(copy))
    crosswalk.reload()
    try:
        assert not crosswalk.formats()["oai_dc"].proven and crosswalk.formats()["jpcoar_1.0"].proven
    finally:
        monkeypatch.undo()
        crosswalk.reload()
