"""The aggregator rules run once, not twice, on a record the crosswalk left as it was, and twice on one it repaired.

`crosswalk.unchanged_by_mapping` tells the two apart; the findings must be those of both runs either way (the corpus
of tests/pipeline/test_equivalence.py proves that over thousands of inputs; these are the cases by name).
"""

from __future__ import annotations

from gateway import crosswalk, pipeline
from gateway.validate import check_aggregator
from gateway.xmlsafe import parse_bytes
from tests.support.records import dataset

_XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
_LOCATION = 'xsi:schemaLocation="https://github.com/JPCOAR/schema/blob/master/2.0/ jpcoar_scm.xsd" '


def _unchanged(raw: str) -> bool:
    root = parse_bytes(raw.encode())
    canonical = crosswalk.to_canonical(root, "jpcoar_2.0")
    return crosswalk.unchanged_by_mapping(parse_bytes(raw.encode()), canonical, crosswalk.serialize(canonical))


def test_a_clean_record_with_a_schema_location_is_its_canonical_record() -> None:
    raw = dataset()
    assert _unchanged(raw)
    assert _unchanged(raw.replace("<jpcoar:jpcoar ", f"<jpcoar:jpcoar {_XSI}{_LOCATION}", 1))


def test_a_record_the_crosswalk_repairs_is_not() -> None:
    # A language tag written with an underscore is mended; elements out of schema order are put back in order.
    assert not _unchanged(dataset().replace('xml:lang="en"', 'xml:lang="en_US"', 1))
    english = '<dc:title xml:lang="en">Test dataset</dc:title>'
    assert not _unchanged(dataset().replace(english, "", 1).replace("</jpcoar:jpcoar>", f"{english}</jpcoar:jpcoar>"))
    # Another spelling of the JPCOAR 2.0 namespace is moved to the canonical one.
    assert not _unchanged(dataset(namespace="https://irdb.nii.ac.jp/schema/jpcoar/2.0/"))


def test_findings_are_those_of_both_runs_either_way() -> None:
    for raw in (dataset(), dataset().replace('xml:lang="en"', 'xml:lang="en_US"', 1), dataset(omit=("creator",))):
        root = parse_bytes(raw.encode())
        canonical = crosswalk.to_canonical(root, "jpcoar_2.0")
        both = check_aggregator(canonical, parse_bytes(raw.encode()))
        mapped = pipeline.map_record(raw.encode(), prefix="jpcoar_2.0")
        layers = [f for f in mapped.findings if f["layer"] == "aggregator"]
        assert layers == both


def test_a_repaired_fault_is_still_reported_as_received() -> None:
    mapped = pipeline.map_record(
        dataset().replace('xml:lang="en"', 'xml:lang="en_US"', 1).encode(), prefix="jpcoar_2.0"
    )
    received = [f for f in mapped.findings if "as received" in f["message"]]
    assert received and all(f["severity"] == "warning" for f in received)
