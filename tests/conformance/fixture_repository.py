"""A small OAI-PMH repository written from the specification, with switches that break it in one precise way each:
the conformance checker must pass it whole and catch every break (`FixtureOAI(breaks=[...])`)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape, quoteattr

REPO_ID = "fixture.example.org"
SECRET = b"fixture-token-key"
DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SECONDS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/ http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">'
)
ARGS = {
    "Identify": (set(), set()),
    "ListMetadataFormats": (set(), {"identifier"}),
    "ListSets": (set(), set()),
    "ListIdentifiers": ({"metadataPrefix"}, {"from", "until", "set"}),
    "ListRecords": ({"metadataPrefix"}, {"from", "until", "set"}),
    "GetRecord": ({"identifier", "metadataPrefix"}, set()),
}
SETS = {"physics": "Physics", "physics:quantum": "Quantum physics", "chemistry": "Chemistry"}


@dataclasses.dataclass
class Item:
    local: str
    stamp: datetime
    sets: tuple[str, ...] = ()
    deleted: bool = False

    @property
    def identifier(self) -> str:
        return f"oai:{REPO_ID}:{self.local}"


def _items() -> list[Item]:
    start = datetime(2021, 3, 1, 8, 0, 0, tzinfo=UTC)
    out = []
    for n in range(11):
        # Several records a day, so day and second granularities select different records.
        stamp = start + timedelta(days=n // 3, hours=n % 3, minutes=n)
        sets = [("physics",), ("physics:quantum",), ("chemistry",), ()][n % 4]
        out.append(Item(f"item-{n}", stamp, sets, deleted=(n == 5)))
    return out


def _fmt(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class OAIError(Exception):
    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.message = message or code


class FixtureOAI:
    """A WSGI OAI-PMH 2.0 repository over a fixed list of items; ``breaks`` names the rules it violates."""

    def __init__(self, breaks: Iterable[str] = (), page_size: int = 4) -> None:
        self.items = _items()
        self.breaks = set(breaks)
        self.page_size = page_size

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        base = f"http://{environ['HTTP_HOST']}{environ.get('SCRIPT_NAME', '')}{environ.get('PATH_INFO', '')}"
        if environ["REQUEST_METHOD"] == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            query = environ["wsgi.input"].read(length).decode("utf-8")
        else:
            query = environ.get("QUERY_STRING", "")
        pairs = parse_qsl(query, keep_blank_values=True)
        now = datetime.now(UTC).replace(microsecond=0)
        attrs: dict[str, str] = {}
        try:
            verbs = [v for k, v in pairs if k == "verb"]
            if len(verbs) != 1 or verbs[0] not in ARGS:
                raise OAIError("badVerb", "missing, repeated or unknown verb")
            verb = verbs[0]
            args = {k: v for k, v in pairs if k != "verb"}
            if len(args) != len(pairs) - 1:
                raise OAIError("badArgument", "repeated argument")
            body = self.dispatch(verb, args, now)
            attrs = dict(pairs)
        except OAIError as exc:
            if exc.code not in {"badVerb", "badArgument"} or (exc.code == "badVerb" and "badverb-attrs" in self.breaks):
                attrs = dict(pairs)
            body = f"<error code={quoteattr(exc.code)}>{escape(exc.message)}</error>"
        request = "<request" + "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items()) + f">{escape(base)}</request>"
        doc = f"{HEAD}<responseDate>{_fmt(now)}</responseDate>{request}{body}</OAI-PMH>"
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8")])
        return [doc.encode("utf-8")]

    # ---- verbs ----

    def dispatch(self, verb: str, args: dict[str, str], now: datetime) -> str:
        if "resumptionToken" in args and verb in {"ListIdentifiers", "ListRecords", "ListSets"}:
            if len(args) != 1:
                raise OAIError("badArgument", "resumptionToken is exclusive")
        else:
            required, optional = ARGS[verb]
            if not required <= set(args) or not set(args) <= required | optional:
                raise OAIError("badArgument", "missing or illegal arguments")
        return getattr(self, verb)(args, now, verb)

    def Identify(self, args: dict[str, str], now: datetime, verb: str) -> str:
        earliest = min(i.stamp for i in self.items)
        if "datestamp-range" in self.breaks:
            earliest += timedelta(hours=1)
        return (
            "<Identify><repositoryName>Fixture</repositoryName><baseURL>http://fixture.invalid/oai</baseURL>"
            "<protocolVersion>2.0</protocolVersion><adminEmail>admin@fixture.example.org</adminEmail>"
            f"<earliestDatestamp>{_fmt(earliest)}</earliestDatestamp><deletedRecord>persistent</deletedRecord>"
            "<granularity>YYYY-MM-DDThh:mm:ssZ</granularity><description>"
            '<oai-identifier xmlns="http://www.openarchives.org/OAI/2.0/oai-identifier" '
            'xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/oai-identifier '
            'http://www.openarchives.org/OAI/2.0/oai-identifier.xsd">'
            f"<scheme>oai</scheme><repositoryIdentifier>{REPO_ID}</repositoryIdentifier>"
            f"<delimiter>:</delimiter><sampleIdentifier>oai:{REPO_ID}:item-1</sampleIdentifier>"
            "</oai-identifier></description></Identify>"
        )

    def ListMetadataFormats(self, args: dict[str, str], now: datetime, verb: str) -> str:
        if "identifier" in args:
            self.item(args["identifier"])
        return (
            "<ListMetadataFormats><metadataFormat><metadataPrefix>oai_dc</metadataPrefix>"
            "<schema>http://www.openarchives.org/OAI/2.0/oai_dc.xsd</schema>"
            "<metadataNamespace>http://www.openarchives.org/OAI/2.0/oai_dc/</metadataNamespace>"
            "</metadataFormat></ListMetadataFormats>"
        )

    def ListSets(self, args: dict[str, str], now: datetime, verb: str) -> str:
        sets = "".join(f"<set><setSpec>{s}</setSpec><setName>{n}</setName></set>" for s, n in SETS.items())
        return f"<ListSets>{sets}</ListSets>"

    def GetRecord(self, args: dict[str, str], now: datetime, verb: str) -> str:
        item = self.item(args["identifier"])
        self.check_prefix(args["metadataPrefix"])
        return f"<GetRecord>{self.record(item)}</GetRecord>"

    def ListIdentifiers(self, args: dict[str, str], now: datetime, verb: str) -> str:
        return self.list(verb, args)

    ListRecords = ListIdentifiers

    # ---- helpers ----

    def item(self, identifier: str) -> Item:
        for item in self.items:
            if item.identifier == identifier:
                return item
        raise OAIError("idDoesNotExist", identifier)

    def check_prefix(self, prefix: str) -> None:
        if prefix != "oai_dc":
            raise OAIError("cannotDisseminateFormat", prefix)

    def header(self, item: Item) -> str:
        status = ' status="deleted"' if item.deleted else ""
        sets = "".join(f"<setSpec>{s}</setSpec>" for s in item.sets)
        return (
            f"<header{status}><identifier>{item.identifier}</identifier>"
            f"<datestamp>{_fmt(item.stamp)}</datestamp>{sets}</header>"
        )

    def record(self, item: Item) -> str:
        if item.deleted:
            return f"<record>{self.header(item)}</record>"
        return (
            f"<record>{self.header(item)}<metadata>"
            '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/oai_dc/ '
            'http://www.openarchives.org/OAI/2.0/oai_dc.xsd">'
            f"<dc:title>Item {item.local}</dc:title></oai_dc:dc></metadata></record>"
        )

    def parse_date(self, text: str, end: bool) -> tuple[datetime, str]:
        try:
            if SECONDS_RE.match(text):
                return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC), "s"
            if DAY_RE.match(text):
                day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
                inclusive = end and "until-midnight" not in self.breaks
                return (day + timedelta(days=1, seconds=-1) if inclusive else day), "d"
        except ValueError:
            pass
        raise OAIError("noRecordsMatch" if "bad-date-code" in self.breaks else "badArgument", f"bad date {text}")

    def sign(self, payload: str) -> str:
        data = base64.urlsafe_b64encode(payload.encode()).decode()
        mac = hmac.new(SECRET, data.encode(), hashlib.sha256).hexdigest()[:16]
        return f"{data}.{mac}"

    def unsign(self, token: str) -> list[str]:
        data, _, mac = token.rpartition(".")
        good = hmac.new(SECRET, data.encode(), hashlib.sha256).hexdigest()[:16]
        if not data or not hmac.compare_digest(mac, good):
            raise OAIError("badResumptionToken", "invalid token")
        return base64.urlsafe_b64decode(data.encode()).decode().split("|")

    def list(self, verb: str, args: dict[str, str]) -> str:
        if "resumptionToken" in args:
            token_verb, prefix, from_, until, set_, offset_text = self.unsign(args["resumptionToken"])
            if token_verb != verb:
                raise OAIError("badResumptionToken", "token of another verb")
            offset = int(offset_text)
        else:
            prefix, from_, until, set_ = (args.get(k, "") for k in ("metadataPrefix", "from", "until", "set"))
            offset = 0
        self.check_prefix(prefix)
        selected = self.items
        grains = set()
        if from_:
            low, grain = self.parse_date(from_, end=False)
            grains.add(grain)
            selected = [i for i in selected if i.stamp >= low]
        if until:
            high, grain = self.parse_date(until, end=True)
            grains.add(grain)
            selected = [i for i in selected if i.stamp <= high]
        if len(grains) > 1:
            raise OAIError("badArgument", "from and until differ in granularity")
        if from_ and until and low > high:
            raise OAIError("badArgument", "from is later than until")
        if set_:
            child = set_ + ":" if "flat-sets" not in self.breaks else "\0"
            selected = [i for i in selected if any(s == set_ or s.startswith(child) for s in i.sets)]
        if not selected:
            raise OAIError("noRecordsMatch")
        start = offset - 1 if ("duplicate" in self.breaks and offset) else offset
        page = selected[start : offset + self.page_size]
        render = self.header if verb == "ListIdentifiers" else self.record
        out = "".join(render(i) for i in page)
        total = len(selected) + (1 if "size" in self.breaks else 0)
        cursor = offset + (1 if "cursor" in self.breaks and offset else 0)
        next_offset = offset + self.page_size
        if next_offset < len(selected):
            token = self.sign("|".join([verb, prefix, from_, until, set_, str(next_offset)]))
            out += f'<resumptionToken completeListSize="{total}" cursor="{cursor}">{token}</resumptionToken>'
        elif offset and "no-last-token" not in self.breaks:
            out += f'<resumptionToken completeListSize="{total}" cursor="{cursor}"/>'
        return f"<{verb}>{out}</{verb}>"
