"""Harvesting an OAI-PMH repository, with Sickle as the HTTP client and strict parsing of every page.

A bad piece is retried if it may be passing, held with its reason if it is not, and the walk goes on:

- timeouts, refused or reset connections, transfers cut short, 5xx (and 408/425/429) answers, answers that are not
  well-formed XML wherever they are cut, HTML error pages: the same request again, with exponential backoff and
  jitter, at most `max_retries` times per request and `max_retries * 20` per run; `Retry-After` (seconds or an HTTP
  date) is honoured up to `retry_ceiling`;
- a page that comes back not well-formed the same way twice has a broken record, not a broken transfer: it is read
  record by record and the broken record is held with its reason (`oairesponse.salvage_response`);
- characters XML 1.0 forbids are removed, with a warning on the record they were in;
- a page without the resumption token it should carry, or a list that ends short of the `completeListSize` the source
  announced, is asked for again and never taken for the end of the list; if the source keeps ending early, the list is
  restarted from the run's checkpoint;
- `badResumptionToken` (a token expired, every earlier one with it) restarts the list from the run's checkpoint.

The checkpoint of a list is where a restart begins: while the source lists records in datestamp order, `from` = the
latest datestamp of the pages stored so far (inclusive, so records of that same second, or day at day granularity,
come again); otherwise the run's own `from`. Records listed again are told by the runner and applied once.
`noRecordsMatch` is an empty list.

The next page is fetched in a background thread while the current one is processed (prefetch of one page).
"""

from __future__ import annotations

import email.utils
import hashlib
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
from gateway.harvest.oairesponse import MalformedResponse, OAIProtocolError, Response, parse_response, salvage_response
from gateway.harvest.records import HarvestError, Page

log = logging.getLogger(__name__)
USER_AGENT = f"jrd-gateway/{__version__} (OAI-PMH harvester)"


def _passing_status(status: int) -> bool:
    """Statuses that say "later", not "never": timeouts and overload at the source or a proxy, every 5xx."""
    return status in (408, 425, 429) or 500 <= status <= 599


#: how often one run may start a list again (expired tokens, lists that keep ending early), at the least
MIN_LIST_RESTARTS = 3


class _Passing(Exception):
    """One attempt failed in a way that may pass; `wait` is what the source asked for (Retry-After)."""

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait


def describe_request(params: dict[str, str]) -> str:
    """A request as a manager can repeat it: the verb and its arguments (the token, or from/until/set)."""
    verb = params.get("verb", "?")
    rest = " ".join(f"{key}={value}" for key, value in params.items() if key != "verb")
    return f"{verb} {rest}".strip()


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
        self.max_restarts = max(MIN_LIST_RESTARTS, self.max_retries)
        #: lists started again from the checkpoint, and pages or records repaired on the way in
        self.restarts = 0
        self.repairs = 0
        self._day_granularity: bool | None = None
        #: the completeListSize of the run's own list (not of a list restarted from a checkpoint's datestamp): how
        #: many records a complete snapshot must have listed before anything may be taken as gone
        self.announced: int | None = None
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

    def _attempt(self, params: dict[str, str]) -> bytes:
        """One HTTP request: the body, `_Passing` for a fault that may pass, HarvestError for one that will not."""
        self._polite()
        try:
            response = self.client._request(params)
        except requests.Timeout as exc:
            raise _Passing(f"no answer from {self.source.url} within {self.source.timeout:g} s ({exc})") from None
        except (
            requests.ConnectionError,
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ) as exc:
            raise _Passing(f"connection to {self.source.url} failed: {exc.__class__.__name__}: {exc}") from None
        except requests.RequestException as exc:
            raise HarvestError(f"cannot reach {self.source.url}: {exc.__class__.__name__}: {exc}") from None
        finally:
            self._last_request = time.monotonic()
        status = response.status_code
        if _passing_status(status):
            header = response.headers.get("retry-after")
            wait = retry_after_seconds(header, -1.0) if header else -1.0
            reason = f"HTTP {status} from {self.source.url}: {_snippet(response.text)}"
            raise _Passing(reason, wait if wait >= 0 else None)
        if status >= 400:
            raise HarvestError(f"HTTP {status} from {self.source.url}: {_snippet(response.text)}")
        return response.content

    def _get(self, params: dict[str, str], what: str) -> bytes:
        """The body of a request, retried while its faults may pass (for answers not parsed as list pages)."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._attempt(params)
            except _Passing as exc:
                self._retry(what, attempt, exc.reason, exc.wait)
            except HarvestError as exc:
                raise HarvestError(f"{what}: {exc}") from None

    def _fetch(self, params: dict[str, str], what: str) -> tuple[Page, int | None] | None:
        """One list page, retried until it is a complete OAI-PMH answer; None for noRecordsMatch."""
        attempt = 0
        previous_broken: bytes | None = None
        while True:
            attempt += 1
            try:
                data = self._attempt(params)
            except _Passing as exc:
                self._retry(what, attempt, exc.reason, exc.wait)
                continue
            except HarvestError as exc:
                raise HarvestError(f"{what}: {exc}") from None
            try:
                parsed = parse_response(data, what=what)
            except OAIProtocolError as exc:
                if exc.code == "noRecordsMatch":
                    return None
                raise
            except MalformedResponse as exc:
                salvaged: Response | None = None
                if exc.kind == "xml":
                    digest = hashlib.sha256(data).digest()
                    # The same broken bytes twice (or the last attempt): a broken record, not a broken transfer.
                    if digest == previous_broken or attempt > self.max_retries:
                        salvaged = salvage_response(data, what=what)
                    previous_broken = digest
                if salvaged is None:
                    self._retry(what, attempt, exc.detail)
                    continue
                self.repairs += 1
                parsed = salvaged
            if self.response_date is None:
                self.response_date = parsed.response_date
            page = Page(
                records=parsed.records,
                resumption_token=parsed.resumption_token,
                complete_list_size=parsed.complete_list_size,
                warnings=parsed.warnings,
            )
            if any(item.warnings for item in parsed.records):
                self.repairs += 1
            return page, parsed.cursor

    # -- the walk -------------------------------------------------------------------------------------------------

    def _first_params(self, set_spec: str | None, from_date: str | None = None) -> dict[str, str]:
        params = {"verb": "ListRecords", "metadataPrefix": self.source.metadata_prefix}
        if set_spec:
            params["set"] = set_spec
        from_date = from_date or self.from_date
        if from_date:
            params["from"] = from_date
        if self.until_date:
            params["until"] = self.until_date
        return params

    def _granularity_is_day(self) -> bool:
        if self._day_granularity is None:
            granularity = self.identify().get("granularity", "YYYY-MM-DD")
            self._day_granularity = "hh" not in granularity
        return self._day_granularity

    def _restart_from(self, high: str | None, ordered: bool) -> str | None:
        """The `from` of a restarted list: the checkpoint's datestamp while the source lists in datestamp order."""
        if not (ordered and high):
            return self.from_date
        if len(high) > 10 and self._granularity_is_day():
            return high[:10]
        return high

    def _restart(self, why: str, high: str | None, ordered: bool) -> str | None:
        """Start a list again from its checkpoint (every token of the source may have died); its new `from`."""
        self.restarts += 1
        if self.restarts > self.max_restarts:
            raise HarvestError(f"{why}; the list was restarted {self.max_restarts} time(s) already, giving up")
        list_from = self._restart_from(high, ordered)
        where = f"from {list_from}" if list_from else "from its start"
        self._warn(f"{why}; the list is harvested again {where} (restart {self.restarts})")
        return list_from

    def _walk(self) -> Iterator[Page]:
        timed = (self.from_date and len(self.from_date) > 10) or (self.until_date and len(self.until_date) > 10)
        # A day-granularity repository rejects a from with a time part (badArgument); the same day is harvested
        # again, which is the overlap day granularity demands.
        if timed and self._granularity_is_day():
            self.from_date = self.from_date[:10] if self.from_date else None
            self.until_date = self.until_date[:10] if self.until_date else None
        sets: list[str | None] = list(self.source.sets) or [None]
        start = self._start
        for index in range(start.get("set", 0), len(sets)):
            set_spec = sets[index]
            label = self.source.name
            resumed = index == start.get("set", 0)
            token = start.get("token") if resumed else None
            received = int(start.get("received", 0)) if token else 0
            complete: int | None = start.get("complete") if token else None
            # The list's checkpoint: its from, the latest datestamp stored, and whether datestamps came in order.
            list_from: str | None = start.get("from") if resumed else None
            high: str | None = start.get("high") if resumed else None
            ordered: bool = bool(start.get("ordered", True)) if resumed else True
            if token:
                params = {"verb": "ListRecords", "resumptionToken": token}
            else:
                params = self._first_params(set_spec, list_from)
            short_attempts = 0
            while True:
                what = f"{label}: {describe_request(params)}"
                try:
                    fetched = self._fetch(params, what)
                except OAIProtocolError as exc:
                    if exc.code != "badResumptionToken" or "resumptionToken" not in params:
                        raise HarvestError(f"{what}: {exc}") from None
                    list_from = self._restart(f"{what}: {exc}", high, ordered)
                    params, received, complete, short_attempts = self._first_params(set_spec, list_from), 0, None, 0
                    continue
                page, cursor = fetched if fetched is not None else (None, None)
                records = page.records if page else []
                if page and page.complete_list_size is not None:
                    complete = page.complete_list_size
                if list_from is None and complete is not None:
                    self.announced = max(self.announced or 0, complete)
                if cursor is not None and cursor != received and page is not None:
                    page.warnings.append(
                        f"{what}: the page says cursor {cursor}, but {received} record(s) came before it"
                    )
                delivered = received + len(records)
                next_token = page.resumption_token if page else None
                if next_token is None and complete is not None and delivered < complete:
                    # Truncated, or a token missing: asking again is right, taking it for the end is not.
                    short_attempts += 1
                    reason = (
                        f"the list ended after {delivered} of the {complete} records its completeListSize announced"
                    )
                    if short_attempts <= self.max_retries:
                        self._retry(what, short_attempts, reason)
                    else:
                        list_from = self._restart(f"{what}: {reason}", high, ordered)
                        params, received, complete = self._first_params(set_spec, list_from), 0, None
                        short_attempts = 0
                    continue
                if next_token is not None and next_token == params.get("resumptionToken"):
                    short_attempts += 1
                    self._retry(what, short_attempts, f"the source sent the same resumption token again ({next_token})")
                    continue
                short_attempts = 0
                received = delivered
                if page is None:
                    break
                for item in records:
                    stamp = item.datestamp
                    if not stamp:
                        ordered = False
                    elif high is None or stamp >= high:
                        high = stamp
                    else:
                        ordered = False
                if next_token:
                    state: dict[str, Any] = {"set": index, "token": next_token, "received": received}
                    state.update(complete=complete, **{"from": list_from}, high=high, ordered=ordered)
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
