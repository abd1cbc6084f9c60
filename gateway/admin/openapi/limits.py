"""The limits of the management API: what the description publishes and what gateway.admin.api checks again.

They live apart from the description so that the API's parameter checks and the document read the very same numbers.
The limits of the settings themselves come from the code that enforces them further in (the configuration's rules,
the source store's text limits), for the same reason.
"""

from __future__ import annotations

from gateway import config as gwconfig

NAME_PATTERN = gwconfig._SOURCE_NAME.pattern  # the configuration's own rule for a source name
RECORD_STATUSES = ("published", "withheld", "quarantined", "deleted")
MAX_LIMIT = 500
MAX_OFFSET = 10**9
MAX_QUERY_TEXT = 500
MAX_RECORD_ID = 1300
MAX_ROW_ID = 2**31 - 1  # the range of the id columns (runs, records): a larger id cannot exist
MAX_WITHIN_DAYS = 3650
# A request body may be this large. It is well above the largest body the schemas allow, even with every character
# written as a \u escape (tests/test_api_validation.py computes that size), so a valid body is never refused as too
# large; the application-wide limit (64 KiB, for OAI-PMH POSTs) would refuse some.
MAX_BODY_BYTES = 1024 * 1024
# An uploaded DMP file (POST /api/dmp/import): a DMP workbook is a few hundred KiB at most; this leaves room for one
# with pictures in it, and keeps what a request can make the process hold in memory small.
MAX_UPLOAD_BYTES = 8 * 1024 * 1024
MAX_SETS = 100
# What the source store refuses as well (sourcestore._check_values): control characters other than tab, and DEL.
NO_CONTROL = r"^[^\x00-\x08\x0a-\x1f\x7f]*$"
