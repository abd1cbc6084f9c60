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

Vocabularies are parsed once, not once per record.  XSLT evaluates every global variable again on each run, so a
global ``<xsl:variable name="TYPES" select="document('../vocab/coar_resource_types.xml')/vocab"/>`` would parse that
file for every record (most of the time a small record's mapping takes).  When a stylesheet module is compiled, each
global variable or parameter whose ``select`` starts with ``document('<file under mappings>.xml')`` is served instead
from a tree parsed once per process and thread (the same parser options, so the same nodes); the stylesheets stay
plain XSLT 1.0 that any processor runs as written.  One consequence for whoever edits them: libxslt builds ``xsl:key``
indexes only for documents it loaded itself, so look values up in a vocabulary with predicates, not ``key()``.
"""

from __future__ import annotations

import hashlib
import os
import re
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
    #: the output stylesheet is proven (tests/test_crosswalk_equivalence.py) to render a schema-valid canonical record
    #: as a valid document, and is the very stylesheet the proof ran on: its output is not validated again
    proven: bool = False


_IMPORTS = re.compile(rb"<xsl:(?:import|include)\s+href=\"([^\"]+)\"")


def stylesheet_digest(name: str) -> str:
    """sha256 over a stylesheet and everything it imports or includes, as `proven_sha256` in formats.toml says it."""
    digest = hashlib.sha256()
    pending, seen = [MAPPINGS_DIR / name], set()
    while pending:
        path = pending.pop(0).resolve()
        if path in seen:
            continue
        seen.add(path)
        data = path.read_bytes()
        digest.update(path.relative_to(MAPPINGS_DIR.resolve()).as_posix().encode() + b"\0" + data + b"\0")
        pending += [path.parent / href.decode() for href in _IMPORTS.findall(data)]
    return digest.hexdigest()


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
            # A stylesheet edited since its proof is validated at run time again, until it is proven anew.
            proven=bool(entry.get("proven_sha256")) and entry.get("proven_sha256") == stylesheet_digest(entry["out"]),
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


_XSL = "http://www.w3.org/1999/XSL/Transform"
# The extension function that hands a stylesheet a vocabulary parsed once; the prefix is declared where it is used.
_VOCAB_NS = "urn:x-gateway:crosswalk"
_VOCAB_PREFIX = "gateway-crosswalk"
_VOCAB_CALL = re.compile(r"""^\s*document\(\s*(?:'([^']*)'|"([^"]*)")\s*\)""")
# Parser options of the stylesheets, and so of what document() reads through their resolver.
_PARSER_OPTIONS = {"no_network": True, "resolve_entities": False, "load_dtd": False}


class _Vocabularies:
    """The vocabulary trees of one thread's stylesheets, parsed once each (see the module's docstring)."""

    def __init__(self) -> None:
        self._trees: dict[str, etree._ElementTree] = {}

    def load(self, path: Path) -> bool:
        """Parse a vocabulary; False if it cannot be (document() is then left to report it, as it always did)."""
        key = str(path)
        if key in self._trees:
            return True
        try:
            self._trees[key] = etree.parse(key, etree.XMLParser(**_PARSER_OPTIONS))
        except (OSError, etree.XMLSyntaxError):
            return False
        return True

    def function(self, _context: object, path: object) -> etree._Element:
        # The root element: the stylesheet takes its parent, the document node that document() would return.
        return self._trees[str(path)].getroot()


def _serve_vocabularies(stylesheet: etree._Element, base: Path, root: Path, vocabularies: _Vocabularies) -> None:
    """Point the global document() variables of one stylesheet module at `vocabularies` (in place)."""
    for element in stylesheet.iterchildren(f"{{{_XSL}}}variable", f"{{{_XSL}}}param"):
        select = element.get("select") or ""
        found = _VOCAB_CALL.match(select)
        if found is None:
            continue
        href = found.group(1) if found.group(1) is not None else found.group(2)
        if "://" in href or not href.endswith(".xml"):
            continue
        path = (base.parent / href).resolve()
        quote = "'" if "'" not in str(path) else '"'
        if quote in str(path) or not path.is_relative_to(root) or not vocabularies.load(path):
            continue  # left to document() and the resolver, which refuse or report it at run time as before
        # A new element declares the function's prefix; it takes the old one's place among the top-level elements.
        served = etree.Element(element.tag, nsmap={_VOCAB_PREFIX: _VOCAB_NS})
        for name, value in element.attrib.items():
            served.set(name, value)
        served.set("select", f"{_VOCAB_PREFIX}:vocabulary({quote}{path}{quote})/..{select[found.end() :]}")
        served.tail = element.tail
        stylesheet.replace(element, served)


class _MappingsOnly(etree.Resolver):
    """Lets stylesheets import and read files under the mappings folder, and nothing else."""

    def __init__(self, root: Path, vocabularies: _Vocabularies) -> None:
        super().__init__()
        self._root = root
        self._vocabularies = vocabularies
        # A document() that is not served from `vocabularies` (one outside a global variable, say) is evaluated again
        # on every run: keep each allowed file's bytes, so that a run costs a parse from memory, not a path check and a
        # file read.  A new resolver (and so a fresh cache) comes with every reload().
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
        if path.suffix == ".xsl" and path.is_file():
            # an imported or included module: its vocabularies are served like the main module's
            module = etree.parse(str(path), etree.XMLParser(**_PARSER_OPTIONS))
            _serve_vocabularies(module.getroot(), path, self._root, self._vocabularies)
            return self.resolve_string(etree.tostring(module), context, base_url=system_url)
        if path.suffix != ".xml" or not path.is_file():
            return None  # let libxml2 read the (allowed) local file itself, and report it if it is missing
        data = self._files[system_url or ""] = path.read_bytes()
        return self.resolve_string(data, context, base_url=system_url)


def _fix_params(stylesheet: etree._Element, fixed: tuple[tuple[str, str], ...]) -> bool:
    """Give the top-level xsl:param of each (name, value) in `fixed` that value as its default (in place).

    A parameter passed at run time is compiled and evaluated on every run; one that never changes (the schema location
    of a format) costs nothing as a default.  False, and nothing changed, when a parameter is not declared in this
    module (an imported one may declare it) or its value cannot be written as an XPath literal: it is then passed
    on every run instead."""
    declared = {element.get("name"): element for element in stylesheet.iterchildren(f"{{{_XSL}}}param")}
    if any(name not in declared or ("'" in value and '"' in value) for name, value in fixed):
        return False
    for name, value in fixed:
        quote = "'" if "'" not in value else '"'
        declared[name].set("select", f"{quote}{value}{quote}")
    return True


def _compile(path: Path, vocabularies: _Vocabularies, fixed: tuple[tuple[str, str], ...] = ()) -> etree.XSLT | None:
    root = MAPPINGS_DIR.resolve()
    parser = etree.XMLParser(**_PARSER_OPTIONS)
    parser.resolvers.add(_MappingsOnly(root, vocabularies))
    try:
        doc = etree.parse(str(path), parser)
        if fixed and not _fix_params(doc.getroot(), fixed):
            return None
        _serve_vocabularies(doc.getroot(), path.resolve(), root, vocabularies)
        return etree.XSLT(doc, access_control=_ACCESS, extensions={(_VOCAB_NS, "vocabulary"): vocabularies.function})
    except (OSError, etree.XMLSyntaxError, etree.XSLTParseError) as exc:
        raise CrosswalkError(f"cannot compile stylesheet {path}: {exc}") from None


def _stylesheet(name: str) -> etree.XSLT:
    xslt = _compiled(name, ())
    assert xslt is not None  # nothing to fix: always compiled
    return xslt


def _compiled(name: str, fixed: tuple[tuple[str, str], ...]) -> etree.XSLT | None:
    """The thread's compiled stylesheet `name` with the parameters `fixed` (see _fix_params); None if they cannot be."""
    cache: dict[tuple[str, tuple[tuple[str, str], ...]], etree.XSLT | None] | None = getattr(_local, "cache", None)
    if cache is None or getattr(_local, "generation", -1) != _generation:
        cache = {}
        _local.cache = cache
        _local.vocabularies = _Vocabularies()
        _local.generation = _generation
    key = (name, fixed)
    if key not in cache:
        cache[key] = _compile(MAPPINGS_DIR / name, _local.vocabularies, fixed)
    return cache[key]


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


def unchanged_by_mapping(record: etree._Element, canonical: etree._Element, serialized: bytes) -> bool:
    """Whether a JPCOAR 2.0 record as received is, element for element, its canonical record (`serialized`: its
    bytes).

    Most clean records are: the mapping then only declared the namespaces on the root and dropped xsi attributes
    (xsi:schemaLocation), so the records differ in their root's start tag alone. libxml2 writes '>' in an attribute
    value as &gt;, so the first '>' ends that tag. `record`'s namespace declarations are moved to its root on the way:
    pass a tree that is not needed afterwards as it was declared.
    """
    if record.tag != canonical.tag:
        return False
    attributes = {name: value for name, value in record.attrib.items() if not name.startswith(_XSI_PREFIX)}
    if attributes != dict(canonical.attrib):
        return False
    etree.cleanup_namespaces(record, top_nsmap=_CANONICAL_NSMAP, keep_ns_prefixes=list(_CANONICAL_NSMAP))
    received = serialize(record)
    return received[received.index(b">") :] == serialized[serialized.index(b">") :]


_XSI_PREFIX = "{http://www.w3.org/2001/XMLSchema-instance}"


def render(canonical: etree._Element, prefix: str) -> etree._Element:
    """Render a canonical record in ``prefix`` (with xsi:schemaLocation)."""
    registry = formats()
    fmt = registry.get(prefix)
    if fmt is None:
        raise CrosswalkError(f"unknown metadata format {prefix!r} (known: {', '.join(registry)})")
    if canonical.tag != f"{{{ns.JPCOAR_2}}}jpcoar":
        raise CrosswalkError(f"render: expected a canonical JPCOAR 2.0 record, got {canonical.tag!r}")
    schema_location = f"{fmt.namespace} {fmt.schema}"
    # The schema location is the same on every run: compiled in as the parameter's default where the stylesheet allows.
    fixed = _compiled(fmt.stylesheet_out, (("schema_location", schema_location),))
    if fixed is not None:
        out = _run(fixed, canonical, f"rendering {prefix}")
    else:
        out = _run(_stylesheet(fmt.stylesheet_out), canonical, f"rendering {prefix}", schema_location=schema_location)
    etree.cleanup_namespaces(out)
    return out


def serialize(element: etree._Element) -> bytes:
    """UTF-8 bytes without an XML declaration; the same element always gives the same bytes."""
    return etree.tostring(element, encoding="UTF-8", xml_declaration=False)
