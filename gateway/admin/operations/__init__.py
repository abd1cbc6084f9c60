"""What the dashboard (and the management API) does and reads, as plain functions over a database session.

Every function returns JSON-serialisable data, so the HTML pages and the JSON API show the same thing. Nothing here
checks who asks: the callers (pages, API) require a logged-in user, and a manager for the operations that change
anything. One module per thing shown or done: `overview`, `connection` (testing a source), `harvests` (started from
the dashboard), `runs`, `records`, `quarantine`; `common` holds what they share. The pages and the API call them
through the names below.
"""

from gateway.admin.operations.common import effective_sources
from gateway.admin.operations.connection import test_connection
from gateway.admin.operations.harvests import is_harvesting, start_harvest, wait_for_harvest
from gateway.admin.operations.overview import overview
from gateway.admin.operations.quarantine import quarantine_groups
from gateway.admin.operations.records import find_record, record_detail, search_records
from gateway.admin.operations.runs import count_runs, get_run, list_runs

__all__ = [
    "count_runs",
    "effective_sources",
    "find_record",
    "get_run",
    "is_harvesting",
    "list_runs",
    "overview",
    "quarantine_groups",
    "record_detail",
    "search_records",
    "start_harvest",
    "test_connection",
    "wait_for_harvest",
]
