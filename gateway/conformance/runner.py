"""The runner: one check of an endpoint, every group of checks in turn, and the report of what was found.

Identify first (what it declares, the later checks judge by), then the formats and sets, a full walk of every format
with its single records and date selections, the sets of the largest format, the error conditions and POST; the
transport checks (Content-Type, the `<request>` echo) are judged last, over every response.
"""

from __future__ import annotations

from gateway.conformance.errors import error_conditions
from gateway.conformance.identify import identifiers_match, identify, list_metadata_formats, metadata_formats_of
from gateway.conformance.lists import date_ranges, full_walks, get_records, list_sets, sets
from gateway.conformance.post import post
from gateway.conformance.probe import OutOfTime, Probe, Validator
from gateway.conformance.report import Report
from gateway.conformance.walks import Walk
from gateway.xmlsafe import parse_bytes


def _default_validator() -> Validator:
    # Imported lazily: the checker itself must work (with a caller's validator) even where the gateway's schema
    # machinery is unavailable.
    try:
        from gateway.schemas import validate_response
    except Exception as exc:  # reported on every response instead of aborting the whole check
        reason = f"the gateway's schema validator is unavailable ({type(exc).__name__}: {exc})"

        def unavailable(body: bytes, prefix: str | None) -> list[str]:
            return [reason]

        return unavailable

    def validate(body: bytes, prefix: str | None) -> list[str]:
        return [f"{issue.path}: {issue.message}" for issue in validate_response(parse_bytes(body), prefix)]

    return validate


def run(probe: Probe) -> None:
    """Every group of checks, in an order where each learns what the next needs."""
    identify(probe)
    prefixes = list_metadata_formats(probe)
    set_walk = list_sets(probe)
    walks: dict[str, Walk] = {}
    token: tuple[str, str] | None = None
    for prefix in prefixes:
        li, lr = full_walks(probe, prefix)
        walks[prefix] = li
        if token is None and li.tokens:
            token = ("ListIdentifiers", li.tokens[0])
        if token is None and lr.tokens:
            token = ("ListRecords", lr.tokens[0])
        get_records(probe, prefix, li)
        date_ranges(probe, prefix, li)
    all_ids = [h.identifier for w in walks.values() for h in w.headers]
    known_id = all_ids[0] if all_ids else None
    if known_id:
        metadata_formats_of(probe, known_id, prefixes)
    identifiers_match(probe, all_ids)
    main = max(prefixes, key=lambda p: len(walks[p].headers), default=None)
    if main is not None:
        sets(probe, set_walk, main, walks[main])
    error_conditions(probe, main or "oai_dc", known_id, token)
    post(probe, main)


def check_endpoint(
    base_url: str,
    *,
    validate: Validator | None = None,
    max_pages: int = 1000,
    timeout: float = 30,
    time_limit: float = 1800,
) -> Report:
    """Check the OAI-PMH endpoint at ``base_url`` against OAI-PMH 2.0; every rule is one named Check.

    ``validate(body, prefix)`` returns the schema problems of one whole response (``prefix`` is None when the
    response carries no metadata); by default the gateway's own schemas are used. Each list walk stops after
    ``max_pages`` pages, each request after ``timeout`` seconds and the whole run after ``time_limit`` seconds.
    """
    probe = Probe(base_url, validate or _default_validator(), max_pages, timeout, time_limit)
    try:
        run(probe)
    except OutOfTime:
        probe.add("time limit", False, f"stopped after {time_limit:g} s: the remaining checks did not run")
    except Exception as exc:
        # A checker bug, or a response so odd it was not foreseen: say so instead of losing the report.
        probe.add("checker", False, f"the check stopped unexpectedly: {type(exc).__name__}: {exc}")
    finally:
        probe.session.close()
    probe.finish()
    return Report(base_url=base_url, checks=probe.checks)
