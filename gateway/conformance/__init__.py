"""OAI-PMH 2.0 conformance checker: walks a live endpoint over HTTP, as a harvester would, and reports every failure.

It only speaks the protocol (nothing here knows how the gateway stores or serves records), so it can be pointed at
any repository. Every rule it applies comes from the OAI-PMH 2.0 specification; where the specification leaves room
(HTTP status of error responses, estimated completeListSize, ...) the checker is as strict as a harvester must be
able to rely on for a static repository.

    report = check_endpoint("https://example.ac.jp/oai")
    print(format_report(report))

The runner (`runner`) drives one `probe` (the HTTP session and what Identify declared) through the groups of checks:
`identify` (Identify, ListMetadataFormats), `lists` (full walks, GetRecord, dates, sets; walking itself is `walks`),
`errors` (every error code) and `post`; `protocol` reads responses and headers, `report` holds the outcome.
"""

from gateway.conformance.probe import Validator
from gateway.conformance.report import Check, Report, format_report
from gateway.conformance.runner import check_endpoint

__all__ = ["Check", "Report", "Validator", "check_endpoint", "format_report"]
