"""Records per second of each validation layer (schema, Annex-3, aggregator) and of all three, on parsed trees.

Run: .venv/bin/python benchmarks/validate.py [--n 10000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lxml import etree

from gateway import annex3, crosswalk
from gateway.validate import check_aggregator, check_annex3, check_schema
from tests.support.records import dataset

SAMPLES = Path("/work/shared/reference/samples/jpcoar-validator")


def corpus(n: int) -> list[tuple[etree._Element, etree._Element | None]]:
    """Varied records: valid datasets, broken ones, other languages and sizes, and the aggregator's edge cases."""
    texts = [
        dataset(),
        dataset("猶予データ", access="embargoed", available="2030-04-01"),
        dataset(omit=("funding",)),
        dataset(jgn="18049069", title_en="Broken grant number"),
        dataset(type_uri="http://purl.org/coar/resource_type/63NG-B465", type_label="dataset"),
        dataset("長い" * 500, title_en="Long " * 500),
        dataset().replace('xml:lang="en"', 'xml:lang="ja_static"'),
    ]
    texts += [p.read_text(encoding="utf-8") for p in sorted(SAMPLES.glob("*/*.xml"))[:40]]
    base = []
    for text in texts:
        raw = etree.fromstring(text.encode())
        base.append((crosswalk.to_canonical(raw), raw if crosswalk.detect_format(raw) == "jpcoar_2.0" else None))
    return [base[i % len(base)] for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10000)
    n = parser.parse_args().n
    records = corpus(n)
    views = [annex3.view(c) for c, _ in records]
    access = [annex3.summarize(c).access_right for c, _ in records]

    def schema() -> None:
        for c, _ in records:
            check_schema(c, "jpcoar_2.0")

    def annex() -> None:
        for v, a in zip(views, access, strict=True):
            check_annex3(v, a)

    def aggregator() -> None:
        for c, r in records:
            check_aggregator(c, r)

    def together() -> None:
        for (c, r), v, a in zip(records, views, access, strict=True):
            check_schema(c, "jpcoar_2.0")
            check_annex3(v, a)
            check_aggregator(c, r)

    for name, fn in (("schema", schema), ("annex3", annex), ("aggregator", aggregator), ("all three", together)):
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
        print(f"{name:11} {n / elapsed:10.0f} records/s ({n} records, {elapsed:.2f} s)")


if __name__ == "__main__":
    main()
