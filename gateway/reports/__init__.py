"""The administrators' reports: one module per report, over the shared helpers and writers.

Every report reads through a SQLAlchemy session and returns plain, JSON-serialisable rows, so the command line
(`gateway report ...`), the dashboard and the management API serve the very same numbers; `render` writes any of
them as a table, CSV, JSON or an `.xlsx` workbook.

- `project_counts`: records per project by data access right (`counts`, `totals`, `write_counts`);
- `embargoes_due`: embargoes that have ended or end soon (`embargoes`, `write_embargoes`);
- `registration_deadlines`: each project's registration due dates, per fiscal year and at the end (`deadlines`,
  `write_deadlines`);
- `dmp_reconciliation`: each DMP's datasets against the records held (`reconciliation`, `dmp_summary`,
  `write_reconciliation`);
- `sharing_transitions`: AMED's 制限共有 moving to open, and the DMP reviews (`transitions`, `write_transitions`);
- `catalogue`: the DMP items AMED's data catalogue publishes, per dataset (`catalogue`, `write_catalogue`);
- `common`: the error, the access categories and the helpers every report uses; `writers`: the formats.

A new report is a module of its own here: a function from a session (and what it needs) to rows, its `Column`s and a
`write_...` that calls `render`; its names are added below, and it is offered by a subcommand in gateway.cli.report,
a route in gateway.admin.api (described in gateway.admin.openapi) and, where it is wanted, a dashboard page.
"""

from gateway.reports.catalogue import catalogue, write_catalogue
from gateway.reports.common import ACCESS_CATEGORIES, AccessCategory, ReportError
from gateway.reports.dmp_reconciliation import reconciliation, write_reconciliation
from gateway.reports.dmp_reconciliation import summary as dmp_summary
from gateway.reports.embargoes_due import embargoes, write_embargoes
from gateway.reports.project_counts import ProjectCounts, counts, counts_columns, totals, write_counts
from gateway.reports.registration_deadlines import PERIOD_UNKNOWN, REGISTRATION_DAYS, deadlines, write_deadlines
from gateway.reports.sharing_transitions import transitions, write_transitions
from gateway.reports.writers import FORMATS, Column, render

__all__ = [
    "ACCESS_CATEGORIES",
    "FORMATS",
    "PERIOD_UNKNOWN",
    "REGISTRATION_DAYS",
    "AccessCategory",
    "Column",
    "ProjectCounts",
    "ReportError",
    "catalogue",
    "counts",
    "counts_columns",
    "deadlines",
    "dmp_summary",
    "embargoes",
    "reconciliation",
    "render",
    "totals",
    "transitions",
    "write_catalogue",
    "write_counts",
    "write_deadlines",
    "write_embargoes",
    "write_reconciliation",
    "write_transitions",
]
