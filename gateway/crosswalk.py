"""Crosswalks between the metadata formats and the canonical record (a JPCOAR 2.0 document).

The mappings are data, in ``mappings/``: ``formats.toml`` lists the formats and names, for each, the XSLT 1.0 stylesheet
that maps a record IN to the canonical form and the one that renders the canonical form OUT again.  This module only
loads and runs them.

Stylesheets are compiled once per process and thread: a compiled ``etree.XSLT`` keeps per-run state, and lxml does not
promise that one instance may run in several threads at once, so each thread gets its own (compiling all six takes a
few milliseconds, paid once per thread).  ``reload()`` drops every compiled instance, in every thread, after a
repository manager edits the mappings.

Stylesheets run with an access control that forbids the network and any write; they may read files (their
vocabularies under ``mappings/vocab``), and the parser they are loaded with refuses to resolve anything outside the
mappings folder.
"""

from __future__ import annotations

import os
import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from gateway import namespaces as ns

__all__ = [
    "CANONICAL_PREFIX",
    "MAPPINGS_DIR",
    "CrosswalkError",
    "MetadataFormat",
    "detect_format",
    "formats",
    "reload",
    "render",
    "serialize",
    "to_canonical",
]

CANONICAL_PREFIX = "jpcoar_2.0"


def _mappings_dir() -> Path:
    override = os.environ.get("GATEWAY_MAPPINGS_DIR")
    if override:
        return Path(override).resolve()
    return Path(__file__).resolve().parent.parent / "mappings"


MAPPINGS_DIR: Path = _mappings_dir()

# Prefixes the canonical record declares on its root, so that every stored record serialises the same way.
_CANONICAL_NSMAP = ns.JPCOAR2_PREFIXES

_ACCESS = etree.XSLTAccessControl(
    read_file=True, write_file=False, create_dir=False, read_network=False, write_network=False
)


class CrosswalkError(ValueError):
    """A record could not be mapped (unknown format, not a record of the format it claims, stylesheet failure)."""


@dataclass(frozen=True)
class MetadataFormat:
    prefix: str
    namespace: str
    schema: str
    input_namespaces: tuple[str, ...]
    stylesheet_in: str = ""
    stylesheet_out: str = ""


# ---------------------------------------------------------------------------------------------------------- registry

_lock = threading.Lock()
_generation = 0
_formats: dict[str, MetadataFormat] | None = None
_by_namespace: dict[str, str] | None = None
_local = threading.local()


def formats() -> dict[str, MetadataFormat]:
    """The registered formats by metadataPrefix, in the order of ``formats.toml``."""
    global _formats, _by_namespace
    current = _formats
    if current is not None:
        return dict(current)
    with _lock:
        if _formats is None:
            _formats = _load_formats(MAPPINGS_DIR / "formats.toml")
            _by_namespace = {}
            for fmt in _formats.values():
                for uri in (fmt.namespace, *fmt.input_namespaces):
                    _by_namespace.setdefault(uri, fmt.prefix)
        return dict(_formats)


def _load_formats(path: Path) -> dict[str, MetadataFormat]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CrosswalkError(f"cannot read the format registry {path}: {exc}") from None
    table = data.get("formats")
    if not isinstance(table, dict) or not table:
        raise CrosswalkError(f"{path}: no [formats.<prefix>] tables")
    result: dict[str, MetadataFormat] = {}
    for prefix, entry in table.items():
        missing = [key for key in ("namespace", "schema", "in", "out") if not entry.get(key)]
        if missing:
            raise CrosswalkError(f"{path}: format {prefix!r} lacks {', '.join(missing)}")
        inputs = tuple(entry.get("input_namespaces") or (entry["namespace"],))
        result[prefix] = MetadataFormat(
            prefix=prefix,
            namespace=entry["namespace"],
            schema=entry["schema"],
            input_namespaces=inputs,
            stylesheet_in=entry["in"],
            stylesheet_out=entry["out"],
        )
    if CANONICAL_PREFIX not in result:
        raise CrosswalkError(f"{path}: the canonical format {CANONICAL_PREFIX!r} is not registered")
    return result


def _namespace_index() -> dict[str, str]:
    formats()
    assert _by_namespace is not None
    return _by_namespace


def reload() -> None:
    """Forget the registry and every compiled stylesheet (all threads); the next call reads ``mappings/`` again."""
    global _formats, _by_namespace, _generation, MAPPINGS_DIR
    with _lock:
        MAPPINGS_DIR = _mappings_dir()
        _formats = None
        _by_namespace = None
        _generation += 1


# ---------------------------------------------------------------------------------------------------------- stylesheets


class _MappingsOnly(etree.Resolver):
    """Lets stylesheets import and read files under the mappings folder, and nothing else."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self._root = root
        # Stylesheets read their vocabularies with document() in global variables, which XSLT evaluates again on
        # every run: keep each allowed file's bytes, so that a run costs a parse from memory, not a path check and a
        # file read per vocabulary per record.  A new resolver (and so a fresh cache) comes with every reload().
        self._files: dict[str, bytes] = {}

    def resolve(self, system_url, public_id, context):  # type: ignore[no-untyped-def]
        url = system_url or ""
        cached = self._files.get(url)
        if cached is not None:
            return self.resolve_string(cached, context, base_url=url)
        if url.startswith("file://"):
            url = url[len("file://") :]
        if "://" in url:
            raise CrosswalkError(f"stylesheets may not load {system_url!r}")
        path = Path(url).resolve()
        if not path.is_relative_to(self._root):
            raise CrosswalkError(f"stylesheets may only read files under {self._root}, not {system_url!r}")
        if path.suffix != ".xml" or not path.is_file():
            return None  # let libxml2 read the (allowed) local file itself, and report it if it is missing
        data = self._files[system_url or ""] = path.read_bytes()
        return self.resolve_string(data, context, base_url=system_url)


def _compile(path: Path) -> etree.XSLT:
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    parser.resolvers.add(_MappingsOnly(MAPPINGS_DIR.resolve()))
    try:
        doc = etree.parse(str(path), parser)
        return etree.XSLT(doc, access_control=_ACCESS)
    except (OSError, etree.XMLSyntaxError, etree.XSLTParseError) as exc:
        raise CrosswalkError(f"cannot compile stylesheet {path}: {exc}") from None


def _stylesheet(name: str) -> etree.XSLT:
    cache: dict[str, etree.XSLT] | None = getattr(_local, "cache", None)
    if cache is None or getattr(_local, "generation", -1) != _generation:
        cache = {}
        _local.cache = cache
        _local.generation = _generation
    xslt = cache.get(name)
    if xslt is None:
        xslt = cache[name] = _compile(MAPPINGS_DIR / name)
    return xslt


def _run(xslt: etree.XSLT, root: etree._Element, what: str, **params: str) -> etree._Element:
    try:
        result = xslt(root, **{key: etree.XSLT.strparam(value) for key, value in params.items()})
    except etree.XSLTApplyError as exc:
        messages = [entry.message for entry in xslt.error_log if entry.message] or [str(exc)]
        raise CrosswalkError(f"{what}: {'; '.join(messages)}") from None
    out = result.getroot()
    if out is None:
        raise CrosswalkError(f"{what}: the stylesheet produced no element")
    return out


# ---------------------------------------------------------------------------------------------------------- API


def _qname_ns(element: etree._Element) -> str | None:
    tag = element.tag
    if not isinstance(tag, str) or not tag.startswith("{"):
        return None
    return tag[1 : tag.index("}")]


def _find_record(root: etree._Element) -> tuple[etree._Element, str] | None:
    index = _namespace_index()
    uri = _qname_ns(root)
    if uri in index:
        return root, index[uri]
    # Wrappers: an OAI-PMH <metadata>/<record>, or a GetRecord response, around the record itself.
    for child in root.iter():
        if child is root or not isinstance(child.tag, str):
            continue
        uri = _qname_ns(child)
        if uri in index and uri not in (ns.DC, ns.DCTERMS):
            return child, index[uri]
    return None


def detect_format(root: etree._Element) -> str | None:
    """The metadataPrefix of a record, by the namespace of its root element (or of the record inside a wrapper)."""
    found = _find_record(root)
    return found[1] if found else None


def to_canonical(root: etree._Element, prefix: str | None = None) -> etree._Element:
    """Map a record (or a wrapper holding one) to a new canonical JPCOAR 2.0 root element."""
    registry = formats()
    if prefix is not None and prefix not in registry:
        raise CrosswalkError(f"unknown metadata format {prefix!r} (known: {', '.join(registry)})")
    found = _find_record(root)
    if found is None:
        if prefix is None:
            raise CrosswalkError(f"cannot tell the metadata format of a record whose root element is {root.tag!r}")
        record = root
    else:
        record, detected = found
        if prefix is not None and detected != prefix:
            raise CrosswalkError(f"record is {detected}, not {prefix} (root element {record.tag!r})")
        prefix = detected
    fmt = registry[prefix]
    canonical = _run(_stylesheet(fmt.stylesheet_in), record, f"mapping {prefix} to {CANONICAL_PREFIX}")
    if canonical.tag != f"{{{ns.JPCOAR_2}}}jpcoar":
        raise CrosswalkError(f"mapping {prefix}: the stylesheet produced {canonical.tag!r}, not a JPCOAR 2.0 record")
    etree.cleanup_namespaces(canonical, top_nsmap=_CANONICAL_NSMAP, keep_ns_prefixes=list(_CANONICAL_NSMAP))
    return canonical


def render(canonical: etree._Element, prefix: str) -> etree._Element:
    """Render a canonical record in ``prefix`` (with xsi:schemaLocation)."""
    registry = formats()
    fmt = registry.get(prefix)
    if fmt is None:
        raise CrosswalkError(f"unknown metadata format {prefix!r} (known: {', '.join(registry)})")
    if canonical.tag != f"{{{ns.JPCOAR_2}}}jpcoar":
        raise CrosswalkError(f"render: expected a canonical JPCOAR 2.0 record, got {canonical.tag!r}")
    out = _run(
        _stylesheet(fmt.stylesheet_out),
        canonical,
        f"rendering {prefix}",
        schema_location=f"{fmt.namespace} {fmt.schema}",
    )
    etree.cleanup_namespaces(out)
    return out


def serialize(element: etree._Element) -> bytes:
    """UTF-8 bytes without an XML declaration; the same element always gives the same bytes."""
    return etree.tostring(element, encoding="UTF-8", xml_declaration=False)
