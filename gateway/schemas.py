"""XML Schema validation of metadata records and OAI-PMH responses.

The schemas live in the project's ``xsd/`` folder (written for the gateway from the published OAI-PMH and JPCOAR
specifications) and only reference each other by relative paths, so loading them never needs the network or a
catalog. Each schema set is compiled once per process and cached: compiling JPCOAR costs far more than validating a
record against it.

One schema set per metadataPrefix: oai_dc and JPCOAR both declare the Dublin Core namespace, with different
content models, and libxml2 keeps only the first declaration of a namespace it sees in a set.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from gateway import namespaces as ns

__all__ = [
    "PREFIXES",
    "XSD_DIR",
    "SchemaIssue",
    "SchemaUnavailable",
    "metadata_schema",
    "response_schema",
    "validate",
    "validate_response",
]

PREFIXES: tuple[str, ...] = ("jpcoar_2.0", "jpcoar_1.0", "oai_dc")


def _xsd_dir() -> Path:
    override = os.environ.get("GATEWAY_XSD_DIR")
    return Path(override).expanduser().resolve() if override else Path(__file__).resolve().parents[1] / "xsd"


XSD_DIR: Path = _xsd_dir()

_FORMAT_FILES: dict[str, str] = {
    "jpcoar_2.0": "jpcoar-2.0/jpcoar.xsd",
    "jpcoar_1.0": "jpcoar-1.0/jpcoar.xsd",
    "oai_dc": "oai_dc/oai_dc.xsd",
}
_FORMAT_NAMESPACES: dict[str, str] = {
    "jpcoar_2.0": ns.JPCOAR_2,
    "jpcoar_1.0": ns.JPCOAR_1,
    "oai_dc": ns.OAI_DC,
}
# Envelope plus the two containers the gateway itself writes into <description> and <about>.
_ENVELOPE_FILES: tuple[tuple[str, str], ...] = (
    (ns.OAI, "oai-pmh/oai-pmh.xsd"),
    (ns.OAI_IDENTIFIER, "oai-pmh/oai-identifier.xsd"),
    (ns.PROVENANCE, "oai-pmh/provenance.xsd"),
)


@dataclass(frozen=True)
class SchemaIssue:
    """One schema violation."""

    path: str  # element path with conventional prefixes, e.g. "/jpcoar:jpcoar/dc:type"
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path} (line {self.line})" if self.line else self.path
        return f"{where}: {self.message}"


class SchemaUnavailable(RuntimeError):
    """The schema of a format is unknown, missing on disk, or does not compile."""


class _LocalOnlyResolver(etree.Resolver):
    # Our schemas only use relative locations; anything remote is a bug in xsd/, not something to fetch.
    def resolve(self, system_url, public_id, context):  # type: ignore[override]
        if system_url and re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", system_url) and not system_url.startswith("file:"):
            raise SchemaUnavailable(f"schema refers to remote location {system_url!r}; xsd/ must be self-contained")
        return None


@dataclass
class _Compiled:
    schema: etree.XMLSchema
    # An XMLSchema object keeps its error log on itself, so concurrent validations would mix their errors.
    lock: threading.Lock


_cache: dict[tuple[str, str | None], _Compiled] = {}
_cache_lock = threading.Lock()


def _parser() -> etree.XMLParser:
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    parser.resolvers.add(_LocalOnlyResolver())
    return parser


def _compile(parts: list[tuple[str, str]]) -> etree.XMLSchema:
    missing = [rel for _, rel in parts if not (XSD_DIR / rel).is_file()]
    if missing:
        raise SchemaUnavailable(f"schema files missing under {XSD_DIR}: {', '.join(missing)}")
    parser = _parser()
    try:
        if len(parts) == 1:
            doc = etree.parse(str(XSD_DIR / parts[0][1]), parser)
        else:
            # A no-namespace driver that imports every part: the only way to get several target namespaces
            # into one compiled set with lxml.
            imports = "".join(f'<xs:import namespace="{uri}" schemaLocation="{rel}"/>' for uri, rel in parts)
            driver = f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">{imports}</xs:schema>'
            doc = etree.ElementTree(etree.fromstring(driver.encode(), parser, base_url=str(XSD_DIR / "driver.xsd")))
        return etree.XMLSchema(doc)
    except (etree.XMLSchemaParseError, etree.XMLSyntaxError, OSError) as exc:
        raise SchemaUnavailable(f"cannot compile {[rel for _, rel in parts]} from {XSD_DIR}: {exc}") from exc


def _get(key: tuple[str, str | None], parts: list[tuple[str, str]]) -> _Compiled:
    compiled = _cache.get(key)
    if compiled is None:
        with _cache_lock:
            compiled = _cache.get(key)
            if compiled is None:
                compiled = _cache[key] = _Compiled(_compile(parts), threading.Lock())
    return compiled


def _format_part(prefix: str) -> tuple[str, str]:
    if prefix not in _FORMAT_FILES:
        raise SchemaUnavailable(f"no schema for metadataPrefix {prefix!r}; known: {', '.join(PREFIXES)}")
    return _FORMAT_NAMESPACES[prefix], _FORMAT_FILES[prefix]


def _metadata(prefix: str) -> _Compiled:
    return _get(("metadata", prefix), [_format_part(prefix)])


def _response(prefix: str | None) -> _Compiled:
    parts = list(_ENVELOPE_FILES)
    # Without a format of its own, a response may still carry Dublin Core in Identify's <description> or a
    # <setDescription> (the protocol's own examples do), so oai_dc is always part of the envelope.
    parts.append(_format_part(prefix or "oai_dc"))
    return _get(("response", prefix), parts)


def metadata_schema(prefix: str) -> etree.XMLSchema:
    """Compiled schema of one metadata format (cached; the same object on every call)."""
    return _metadata(prefix).schema


def response_schema(prefix: str | None) -> etree.XMLSchema:
    """OAI-PMH envelope + oai-identifier + provenance (+ the format of ``prefix``) as one cached schema set."""
    return _response(prefix).schema


def validate(doc: etree._Element | etree._ElementTree, prefix: str) -> list[SchemaIssue]:
    """Validate a metadata document (or an element inside a larger document) of format ``prefix``."""
    return _run(_metadata(prefix), doc)


def validate_response(doc: etree._Element | etree._ElementTree, prefix: str | None) -> list[SchemaIssue]:
    """Validate a whole OAI-PMH response; ``prefix`` is the metadata format it carries, None if it carries none."""
    return _run(_response(prefix), doc)


def _run(compiled: _Compiled, doc: etree._Element | etree._ElementTree) -> list[SchemaIssue]:
    root = doc.getroot() if isinstance(doc, etree._ElementTree) else doc
    with compiled.lock:
        if compiled.schema.validate(root):
            return []
        entries = [(e.path, e.line, e.message) for e in compiled.schema.error_log]
    return [SchemaIssue(_readable_path(root, path), line or None, message) for path, line, message in entries]


# Conventional prefixes for paths, independent of whatever prefixes the document happened to use.
_PATH_PREFIXES: dict[str, str] = {uri: prefix for prefix, uri in ns.NSMAP.items()}
_PATH_PREFIXES[ns.JPCOAR_1] = "jpcoar"
_PATH_PREFIXES[ns.JPCOAR_2_IRDB] = "jpcoar"

_STEP = re.compile(r"^(?:(?P<prefix>[^:\[\]]+):)?(?P<name>[^\[\]]+)(?:\[(?P<index>\d+)\])?$")


def _readable_path(root: etree._Element, libxml_path: str | None) -> str:
    """Turn libxml2's node path (which writes "*" for default-namespace elements) into a prefixed path."""
    if not libxml_path:
        return ""
    node = _follow(root, libxml_path)
    if node is None:
        return libxml_path
    steps: list[str] = []
    current: etree._Element | None = node
    while current is not None:
        if current is root:
            steps.append(_step_name(current, indexed=False))
            break
        steps.append(_step_name(current, indexed=True))
        current = current.getparent()
    return "/" + "/".join(reversed(steps))


def _follow(root: etree._Element, path: str) -> etree._Element | None:
    # libxml2 reports paths relative to the validated element, which it treats as the document root.
    steps = path.strip("/").split("/")
    node = root
    for i, step in enumerate(steps):
        match = _STEP.match(step)
        if match is None:
            return None
        if i == 0:
            continue
        prefix, name, index = match.group("prefix"), match.group("name"), int(match.group("index") or 1)
        candidates = [c for c in node if isinstance(c.tag, str) and _matches(c, prefix, name)]
        if len(candidates) < index:
            return None
        node = candidates[index - 1]
    return node


def _matches(element: etree._Element, prefix: str | None, name: str) -> bool:
    if name == "*":
        return True
    qname = etree.QName(element)
    if qname.localname != name:
        return False
    return element.prefix == prefix if prefix else qname.namespace is None


def _step_name(element: etree._Element, indexed: bool) -> str:
    qname = etree.QName(element)
    if qname.namespace is None:
        label = qname.localname
    else:
        prefix = _PATH_PREFIXES.get(qname.namespace) or element.prefix or "ns"
        label = f"{prefix}:{qname.localname}"
    parent = element.getparent()
    if indexed and parent is not None:
        same = [c for c in parent if c.tag == element.tag]
        if len(same) > 1:
            label += f"[{same.index(element) + 1}]"
    return label
