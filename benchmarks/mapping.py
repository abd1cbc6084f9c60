"""Mapping-stage benchmark: milliseconds per record of each step of `pipeline.map_record`, on one core.

    .venv/bin/python -m benchmarks.mapping                  # 2,000 records, median of 5 runs
    .venv/bin/python -m benchmarks.mapping --n 5000 --repeat 7

The records are the harvest benchmark's (benchmarks/harvest.py: the JPCOAR 2.0 dataset of tests/support/records.py,
numbered), parsed and mapped in this process, without a database.  Each step runs over all N records in turn, and
each run of every step is repeated `--repeat` times; the table gives the median of the runs, in ms per record:

- parse:        gateway.xmlsafe.parse_bytes of the raw record
- to_canonical: the crosswalk to canonical JPCOAR 2.0 (mappings/jpcoar_2.0_in.xsl with lib/jpcoar2_build.xsl)
- render X:     the rendering in format X (mappings/X_out.xsl), serialised
- view, summarize: the Annex-3 view (mappings/annex3.toml) and summary of the canonical record
- aggregator:   the aggregator rules on the canonical record and on the record as received (validate.check_aggregator)
- schema X, annex3 rules: the validations map_record also runs, shown apart: they are not part of the mapping stage

Times are CPU time of this process (time.process_time), so that other work on a shared machine counts less.
"mapping stage" is the sum of to_canonical, the renderings, view, summarize and aggregator; map_record is the whole
function, measured on its own, with records/s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gateway import annex3, crosswalk, pipeline  # noqa: E402
from gateway.validate import check_aggregator, check_annex3, check_schema  # noqa: E402
from gateway.xmlsafe import parse_bytes  # noqa: E402

MAPPING_STAGE = ("to_canonical", "view", "summarize", "aggregator")


def records(n: int) -> list[bytes]:
    """The harvest benchmark's records 0..n-1, as raw bytes."""
    from benchmarks.harvest import _template

    template = _template()
    return [template.replace("@N@", str(i)).encode() for i in range(n)]


def _time(step: Callable[[Any], object], inputs: list[Any], repeat: int) -> float:
    """Median ms per input of `step` over all inputs, in `repeat` runs (after one warm-up run)."""
    for item in inputs[: min(len(inputs), 50)]:
        step(item)
    runs = []
    for _ in range(repeat):
        start = time.process_time()
        for item in inputs:
            step(item)
        runs.append((time.process_time() - start) / len(inputs) * 1000)
    return statistics.median(runs)


def measure(n: int, repeat: int) -> dict[str, float]:
    raws = records(n)
    roots = [parse_bytes(raw) for raw in raws]
    canonicals = [crosswalk.to_canonical(root) for root in roots]
    pairs = list(zip(canonicals, roots, strict=True))
    views = [annex3.view(c) for c in canonicals]
    access = [annex3.summarize(c).access_right for c in canonicals]
    out_prefixes = list(crosswalk.formats())
    rendered = {p: [crosswalk.render(c, p) for c in canonicals] for p in out_prefixes}

    table: dict[str, float] = {}
    table["parse"] = _time(parse_bytes, raws, repeat)
    table["to_canonical"] = _time(crosswalk.to_canonical, roots, repeat)
    table["serialize canonical"] = _time(crosswalk.serialize, canonicals, repeat)
    for prefix in out_prefixes:
        table[f"render {prefix}"] = _time(
            lambda c, p=prefix: crosswalk.serialize(crosswalk.render(c, p)), canonicals, repeat
        )
    table["view"] = _time(annex3.view, canonicals, repeat)
    table["summarize"] = _time(annex3.summarize, canonicals, repeat)
    table["aggregator"] = _time(lambda pair: check_aggregator(*pair), pairs, repeat)
    table["schema jpcoar_2.0 (canonical)"] = _time(lambda c: check_schema(c, "jpcoar_2.0"), canonicals, repeat)
    for prefix in out_prefixes:
        if prefix != crosswalk.CANONICAL_PREFIX:
            table[f"schema {prefix}"] = _time(lambda r, p=prefix: check_schema(r, p), rendered[prefix], repeat)
    table["annex3 rules"] = _time(lambda va: check_annex3(*va), list(zip(views, access, strict=True)), repeat)
    table["mapping stage"] = sum(table[k] for k in MAPPING_STAGE) + sum(table[f"render {p}"] for p in out_prefixes)
    table["map_record"] = _time(
        lambda raw: pipeline.map_record(raw, prefix=None, repository="Benchmark Repository"), raws, repeat
    )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000, help="records per run (default 2000)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each step; the median is shown (default 5)")
    args = parser.parse_args()
    table = measure(args.n, args.repeat)
    width = max(len(k) for k in table)
    print(f"{'step':<{width}}  ms/record   (N = {args.n}, median of {args.repeat} runs, one core)")
    for key, value in table.items():
        if key in ("mapping stage", "map_record"):
            print("-" * (width + 12))
        print(f"{key:<{width}}  {value:9.4f}")
    print(f"{'map_record records/s':<{width}}  {1000 / table['map_record']:9.0f}")


if __name__ == "__main__":
    main()
