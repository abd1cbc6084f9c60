"""Harvesting an OAI-PMH repository, with Sickle as the HTTP client and strict parsing of every page.

Faults real repositories show are handled here, each bounded per request (`max_retries`) and per run:

- timeouts, refused or reset connections and transfers cut short are retried with exponential backoff and jitter;
- `503`/`429` (and `502`/`504` from proxies) are retried after `Retry-After` (seconds or an HTTP date), never longer
  than `retry_ceiling`;
- a list that ends, or a page that lacks the resumption token it should carry, before the `completeListSize` the
  source announced is asked for again, and is never taken for the end of the list;
- `badResumptionToken` (an expired token, typically when resuming an interrupted run) restarts the list from its
  beginning (the run's from/until/set): records seen twice are simply unchanged;
- `noRecordsMatch` is an empty list.

The next page is fetched in a background thread while the current one is processed (prefetch of one page).
"""

from __future__ import annotations

import email.utils
import json
import logging
import queue
import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import requests
from sickle import Sickle

from gateway import __version__
from gateway.config import SourceConfig
from gateway.harvest import HarvestError, Page
from gateway.harvest.oairesponse import OAIProtocolError, parse_response

log = logging.getLogger(__name__)
USER_AGENT = f"jrd-gateway/{__version__} (OAI-PMH harvester)"

#: statuses that say "later", not "never"
RETRY_STATUSES = (429, 502, 503, 504)
#: how often one run may start a list again after badResumptionToken
MAX_LIST_RESTARTS = 3


class _Client(Sickle):
    """Sickle with a pooled session and a real User-Agent; retries are the harvester's business."""

    def __init__(self, endpoint: str, *, timeout: float) -> None:
        super().__init__(endpoint, max_retries=0, timeout=timeout, headers={"User-Agent": USER_AGENT})
        self.session = requests.Session()
        self.requests = 0

    def _request(self, kwargs):  # type: ignore[no-untyped-def]
        self.requests += 1
        return self.session.get(self.endpoint, params=kwargs, **self.request_args)


def retry_after_seconds(value: str | None, default: float, *, now: datetime | None = None) -> float:
    """A Retry-After header as seconds from now: delta-seconds or an HTTP date; `default` when absent or garbled."""
    if not value:
        return default
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if parsed is None:
        return default
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return max(0.0, (parsed - (now or datetime.now(UTC))).total_seconds())


class OAIHarvester:
    """Pages of an OAI-PMH ListRecords walk, incremental from `from_date`, over the configured sets."""

    is_snapshot = False
    #: replaced in tests, so that backoff and Retry-After waits cost no time
    sleep = staticmethod(time.sleep)
    #: the first backoff wait in seconds (doubled at each further attempt, with jitter)
    backoff_base = 1.0
    prefetch = True

    def __init__(
        self,
        source: SourceConfig,
        *,
        from_date: str | None = None,
        until_date: str | None = None,
        checkpoint: str | None = None,
    ) -> None:
        self.source = source
        self.from_date = from_date
        self.until_date = until_date
        self.is_snapshot = from_date is None and until_date is None and not source.sets
        opts = source.options
        self.max_retries = int(opts.get("max_retries", 5))
        self.retry_ceiling = float(opts.get("retry_ceiling", 300))
        self.min_delay = float(opts.get("min_delay", 0))
        self.max_run_retries = max(20, self.max_retries * 20)
        self.client = _Client(source.url or "", timeout=source.timeout)
        self.response_date: str | None = None
        self.retries = 0
        self._start = _read_checkpoint(checkpoint)
        self._notes: list[str] = []
        self._notes_lock = threading.Lock()
        self._last_request = 0.0

    @property
    def requests(self) -> int:
        return self.client.requests

    def take_warnings(self) -> list[str]:
        """Warnings gathered since the last call (retries, restarted lists), for the run history."""
        with self._notes_lock:
            notes, self._notes = self._notes, []
        return notes

    def _warn(self, text: str) -> None:
        log.warning("%s", text)
        with self._notes_lock:
            self._notes.append(text)

    # -- one request, with retries -------------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        return min(self.retry_ceiling, self.backoff_base * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)

    def _retry(self, what: str, attempt: int, reason: str, wait: float | None = None) -> None:
        """Wait before attempt `attempt + 1`, or give up when the request's or the run's retries are spent."""
        if attempt > self.max_retries or self.retries >= self.max_run_retries:
            spent = "this run's retries are spent" if self.retries >= self.max_run_retries else "giving up"
            raise HarvestError(f"{what}: {reason} ({attempt} attempt(s), {spent})")
        self.retries += 1
        delay = min(self.retry_ceiling, self._backoff(attempt) if wait is None else wait)
        self._warn(f"{what}: {reason}; retry {attempt} of {self.max_retries} in {delay:.1f} s")
        self.sleep(delay)

    def _polite(self) -> None:
        if self.min_delay and self._last_request:
            left = self.min_delay - (time.monotonic() - self._last_request)
            if left > 0:
                self.sleep(left)

    def _get(self, params: dict[str, str], what: str) -> bytes:
        attempt = 0
        while True:
            attempt += 1
            self._polite()
            try:
                response = self.client._request(params)
            except requests.Timeout as exc:
                self._last_request = time.monotonic()
                self._retry(what, attempt, f"no answer from {self.source.url} within {self.source.timeout:g} s ({exc})")
                continue
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                self._last_request = time.monotonic()
                self._retry(what, attempt, f"connection to {self.source.url} failed: {exc.__class__.__name__}: {exc}")
                continue
            except requests.RequestException as exc:
                raise HarvestError(f"{what}: cannot reach {self.source.url}: {exc.__class__.__name__}: {exc}") from None
            self._last_request = time.monotonic()
            status = response.status_code
            if status in RETRY_STATUSES:
                wait = retry_after_seconds(response.headers.get("retry-after"), self._backoff(attempt))
                body = _snippet(response.text)
                self._retry(what, attempt, f"HTTP {status} from {self.source.url}: {body}", wait)
                continue
            if status >= 400:
                raise HarvestError(f"{what}: HTTP {status} from {self.source.url}: {_snippet(response.text)}")
            return response.content

    def _fetch(self, params: dict[str, str], what: str) -> tuple[Page, int | None] | None:
        data = self._get(params, what)
        try:
            parsed = parse_response(data, what=what)
        except OAIProtocolError as exc:
            if exc.code == "noRecordsMatch":
                return None
            raise
        if self.response_date is None:
            self.response_date = parsed.response_date
        page = Page(
            records=parsed.records,
            resumption_token=parsed.resumption_token,
            complete_list_size=parsed.complete_list_size,
            warnings=parsed.warnings,
        )
        return page, parsed.cursor

    # -- the walk -------------------------------------------------------------------------------------------------

    def _first_params(self, set_spec: str | None) -> dict[str, str]:
        params = {"verb": "ListRecords", "metadataPrefix": self.source.metadata_prefix}
        if set_spec:
            params["set"] = set_spec
        if self.from_date:
            params["from"] = self.from_date
        if self.until_date:
            params["until"] = self.until_date
        return params

    def _walk(self) -> Iterator[Page]:
        if (self.from_date and len(self.from_date) > 10) or (self.until_date and len(self.until_date) > 10):
            # A day-granularity repository rejects a from with a time part (badArgument); the same day is
            # harvested again, which is the overlap day granularity demands.
            granularity = self.identify().get("granularity", "YYYY-MM-DD")
            if "hh" not in granularity:
                self.from_date = self.from_date[:10] if self.from_date else None
                self.until_date = self.until_date[:10] if self.until_date else None
        sets: list[str | None] = list(self.source.sets) or [None]
        start = self._start
        restarts = 0
        for index in range(start.get("set", 0), len(sets)):
            set_spec = sets[index]
            label = f"{self.source.name} ListRecords" + (f" set {set_spec}" if set_spec else "")
            token = start.get("token") if index == start.get("set", 0) else None
            received = int(start.get("received", 0)) if token else 0
            complete: int | None = start.get("complete") if token else None
            params = {"verb": "ListRecords", "resumptionToken": token} if token else self._first_params(set_spec)
            short_attempts = 0
            while True:
                what = label + (" (resumption)" if "resumptionToken" in params else "")
                try:
                    fetched = self._fetch(params, what)
                except OAIProtocolError as exc:
                    if exc.code != "badResumptionToken" or "resumptionToken" not in params:
                        raise
                    restarts += 1
                    if restarts > MAX_LIST_RESTARTS:
                        raise
                    self._warn(f"{what}: {exc}; the list is harvested again from its start")
                    params, received, complete, short_attempts = self._first_params(set_spec), 0, None, 0
                    continue
                page, cursor = fetched if fetched is not None else (None, None)
                records = page.records if page else []
                if page and page.complete_list_size is not None:
                    complete = page.complete_list_size
                if cursor is not None and cursor != received and page is not None:
                    page.warnings.append(
                        f"{what}: the page says cursor {cursor}, but {received} record(s) came before it"
                    )
                delivered = received + len(records)
                next_token = page.resumption_token if page else None
                if next_token is None and complete is not None and delivered < complete:
                    # Truncated, or a token missing: asking again is right, taking it for the end is not.
                    short_attempts += 1
                    self._retry(
                        what,
                        short_attempts,
                        f"the list ended after {delivered} of the {complete} records its completeListSize announced",
                    )
                    continue
                if next_token is not None and next_token == params.get("resumptionToken"):
                    raise HarvestError(f"{what}: the source sent the same resumption token again ({next_token})")
                short_attempts = 0
                received = delivered
                if page is None:
                    break
                if next_token:
                    state = {"set": index, "token": next_token, "received": received, "complete": complete}
                else:
                    state = {"set": index + 1}
                page.checkpoint = json.dumps(state)
                yield page
                if not next_token:
                    break
                params = {"verb": "ListRecords", "resumptionToken": next_token}

    def pages(self) -> Iterator[Page]:
        if not self.prefetch:
            yield from self._walk()
            return
        yield from _prefetched(self._walk(), name=f"harvest-{self.source.name}")

    def identify(self) -> dict[str, str]:
        """The source's Identify answer, as flat fields (for `gateway sources --check` and the dashboard)."""
        what = f"{self.source.name} Identify"
        parsed = parse_response(self._get({"verb": "Identify"}, what), what=what)
        out: dict[str, str] = {}
        identify = parsed.root.find("{http://www.openarchives.org/OAI/2.0/}Identify")
        if identify is not None:
            for child in identify:
                if isinstance(child.tag, str) and child.text and child.text.strip():
                    out.setdefault(child.tag.split("}")[-1], child.text.strip())
        return out


def _read_checkpoint(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {"set": 0, "token": text}  # a bare resumption token
    return value if isinstance(value, dict) else {}


_END = object()


def _prefetched(pages: Iterator[Page], *, name: str) -> Iterator[Page]:
    """The pages of `pages`, the next one fetched in a thread while the caller works on the current one."""
    box: queue.Queue[Any] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def work() -> None:
        try:
            for page in pages:
                while not stop.is_set():
                    try:
                        box.put(("page", page), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            item: tuple[str, Any] = ("end", _END)
        except BaseException as exc:  # handed to the consumer, which raises it
            item = ("error", exc)
        while not stop.is_set():
            try:
                box.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    thread = threading.Thread(target=work, name=name, daemon=True)
    thread.start()
    try:
        while True:
            kind, value = box.get()
            if kind == "page":
                yield value
            elif kind == "error":
                raise value
            else:
                return
    finally:
        stop.set()


def _snippet(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat[:limit] + ("…" if len(flat) > limit else "") if flat else "(empty body)"
