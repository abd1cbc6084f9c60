"""The outcome of a conformance check: every rule applied is one named `Check`, passed or failed, with its detail."""

from __future__ import annotations

from dataclasses import dataclass

_MAX_LISTED = 8  # problems quoted in one check's detail; the count says how many there were


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class Report:
    base_url: str
    checks: list[Check]

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]


def format_report(report: Report) -> str:
    """A readable summary: how many checks ran, the failures first, then what passed."""
    failures = report.failures
    lines = [
        f"OAI-PMH 2.0 conformance of {report.base_url}: {len(report.checks)} checks, "
        f"{len(failures)} failed, {len(report.checks) - len(failures)} passed"
    ]
    for check in failures:
        lines.append(f"FAIL  {check.name}" + (f": {check.detail}" if check.detail else ""))
    for check in report.checks:
        if check.ok:
            lines.append(f"ok    {check.name}" + (f" ({check.detail})" if check.detail else ""))
    return "\n".join(lines)


def listed(problems: list[str]) -> str:
    shown = "; ".join(problems[:_MAX_LISTED])
    more = len(problems) - _MAX_LISTED
    return shown + (f"; ... {more} more" if more > 0 else "")
