"""The equivalence corpus: many records, and a fingerprint of everything the mapping stage makes of each.

The mapping stage (the crosswalk to canonical JPCOAR 2.0, every rendering, the Annex-3 view and summary, and the
findings) may be made faster but must not change what it produces.  `corpus()` builds the inputs: every XML under
tests/fixtures, examples/ and the shared reference folder (each record of an OAI-PMH response on its own, and the file
as a whole), the benchmark's record, and seeded random mutations of the records among them.  `fingerprint()` maps one
input with `pipeline.map_record` and hashes each part of the result.  The expectations were recorded once, from the
code as it was before the stylesheets were reworked, with

    .venv/bin/python -m tests.support.equivalence --record

which refuses to overwrite them (they are the reference; regenerating them from new code would prove nothing).
tests/pipeline/test_equivalence.py compares the current fingerprints with them.

Everything here is deterministic: files are read in sorted order, each mutant draws from its own `random.Random`
seeded with a string (string seeds do not depend on PYTHONHASHSEED), and no set or dict of unordered keys decides an
order.  The values written into mutants come from tests/fixtures/equivalence/values.txt, frozen when the
expectations were recorded, so that editing a vocabulary does not change the inputs.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import gzip
import hashlib
import json
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from tests.support.paths import FIXTURES, ROOT, shared_reference

DATA = FIXTURES / "equivalence"
EXPECTED = DATA / "expected.tsv.gz"
VALUES = DATA / "values.txt"

#: the parts of a mapping result that are fingerprinted, in the order of the expectation file's columns
PARTS = ("detected", "canonical", "jpcoar_2.0", "jpcoar_1.0", "oai_dc", "view", "summary", "findings")
#: findings of other layers come from code outside the mapping stage (source rows, harvest repairs, leak checks)
FINDING_LAYERS = ("crosswalk", "schema", "annex3", "aggregator")
#: mutants made of each base record
MUTANTS_PER_RECORD = 16
#: records taken from one OAI-PMH response (beyond these, the file as a whole still is an input)
RECORDS_PER_RESPONSE = 20
#: hex digits of sha256 kept per part: 48 bits make a changed output that keeps its fingerprint a 1-in-10^14 event
DIGITS = 12

OAI = "http://www.openarchives.org/OAI/2.0/"
JP2 = "https://github.com/JPCOAR/schema/blob/master/2.0/"
JP1 = "https://github.com/JPCOAR/schema/blob/master/1.0/"
IRDB = "https://irdb.nii.ac.jp/schema/jpcoar/2.0/"
DC = "http://purl.org/dc/elements/1.1/"
DCTERMS = "http://purl.org/dc/terms/"
DATACITE = "https://schema.datacite.org/meta/kernel-4/"
OAIRE = "http://namespace.openaire.eu/schema/oaire/"
DCNDL = "http://ndl.go.jp/dcndl/terms/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XML = "http://www.w3.org/XML/1998/namespace"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
FOREIGN = ("urn:example:other", "http://purl.org/dc/terms/", "http://www.w3.org/1999/xhtml", "")

# Elements a mutant may gain: every element the JPCOAR 2.0 builder reads, at the top level or inside a parent.
_NEW_ELEMENTS = [
    (DC, "title"), (DCTERMS, "alternative"), (JP2, "creator"), (JP2, "contributor"), (DCTERMS, "accessRights"),
    (DC, "rights"), (JP2, "rightsHolder"), (JP2, "subject"), (DATACITE, "description"), (DC, "publisher"),
    (JP2, "publisher"), (DATACITE, "date"), (DCTERMS, "date"), (DC, "language"), (DC, "type"), (DATACITE, "version"),
    (OAIRE, "version"), (JP2, "identifier"), (JP2, "identifierRegistration"), (JP2, "relation"), (DCTERMS, "temporal"),
    (DATACITE, "geoLocation"), (JP2, "fundingReference"), (JP2, "sourceIdentifier"), (DCNDL, "edition"),
    (DCNDL, "volumeTitle"), (DCNDL, "originalLanguage"), (DCTERMS, "extent"), (JP2, "format"), (DCTERMS, "format"),
    (JP2, "holdingAgent"), (JP2, "datasetSeries"), (JP2, "sourceTitle"), (JP2, "volume"), (JP2, "issue"),
    (JP2, "numPages"), (JP2, "pageStart"), (JP2, "pageEnd"), (DCNDL, "dissertationNumber"), (DCNDL, "degreeName"),
    (DCNDL, "dateGranted"), (JP2, "degreeGrantor"), (JP2, "conference"), (JP2, "file"), (JP2, "catalog"),
    (JP2, "nameIdentifier"), (JP2, "creatorName"), (JP2, "contributorName"), (JP2, "familyName"), (JP2, "givenName"),
    (JP2, "affiliation"), (JP2, "affiliationName"), (JP2, "relatedIdentifier"), (JP2, "relatedTitle"),
    (DATACITE, "geoLocationPoint"), (DATACITE, "pointLongitude"), (DATACITE, "pointLatitude"),
    (DATACITE, "geoLocationBox"), (DATACITE, "westBoundLongitude"), (DATACITE, "eastBoundLongitude"),
    (DATACITE, "southBoundLatitude"), (DATACITE, "northBoundLatitude"), (DATACITE, "geoLocationPlace"),
    (JP2, "funderIdentifier"), (DATACITE, "funderIdentifier"), (JP2, "funderName"), (JP2, "fundingStreamIdentifier"),
    (JP2, "fundingStream"), (JP2, "awardNumber"), (DATACITE, "awardNumber"), (JP2, "awardTitle"), (JP2, "URI"),
    (JP2, "mimeType"), (JP2, "extent"), (JP2, "license"), (JP2, "publisherName"), (JP2, "holdingAgentName"),
    (JP2, "holdingAgentNameIdentifier"), (JP2, "conferenceName"), (JP2, "conferenceSequence"),
    (JP2, "conferenceDate"), (JP2, "conferenceCountry"), (JP2, "degreeGrantorName"), (JP2, "rightsHolderName"),
    (DC, "creator"), (DC, "contributor"), (DC, "subject"), (DC, "description"), (DC, "date"), (DC, "identifier"),
    (DC, "relation"), (DC, "coverage"), (DC, "format"), (DC, "source"), (JP1, "creator"), (IRDB, "identifier"),
    ("urn:example:other", "stray"),
]
_ATTRIBUTES = [
    "identifierType", "dateType", "relationType", "nameIdentifierScheme", "nameIdentifierURI", "subjectScheme",
    "subjectURI", "contributorType", "creatorType", "descriptionType", "funderIdentifierType",
    "funderIdentifierTypeURI", "fundingStreamIdentifierType", "fundingStreamIdentifierTypeURI", "awardNumberType",
    "awardURI", "objectType",
    "label", "licenseType", "nameType", "startYear", "starYear", "startMonth", "startDay", "endYear", "endMonth",
    "endDay", f"{{{RDF}}}resource", f"{{{XML}}}lang", f"{{{XSI}}}schemaLocation",
]
_CONTROLLED_NEW = [(DC, "type"), (DCTERMS, "accessRights"), (OAIRE, "version"), (DC, "language"), (DC, "rights")]
_CONTROLLED = {f"{{{uri}}}{local}" for uri, local in _CONTROLLED_NEW}
_DATE_TAGS = {f"{{{DATACITE}}}date", f"{{{DCTERMS}}}date", f"{{{DC}}}date", f"{{{DCNDL}}}dateGranted"}


@dataclass(frozen=True)
class Input:
    id: str
    raw: bytes

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()[:DIGITS]


def _values() -> dict[str, list[str]]:
    pools: dict[str, list[str]] = {}
    for line in VALUES.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        section, _, value = line.partition("\t")
        pools.setdefault(section, []).append(json.loads(value))
    return pools


def _files() -> Iterator[tuple[str, Path]]:
    """(id, path) of every XML file of the corpus, in a fixed order; ids are stable relative names."""
    for label, base in (("fixtures", FIXTURES), ("examples", ROOT / "examples"), ("reference", shared_reference())):
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.xml"), key=lambda p: p.relative_to(base).as_posix()):
            yield f"{label}/{path.relative_to(base).as_posix()}", path


def _benchmark_record() -> str:
    from tests.support.records import dataset

    return dataset("データセット @N@", title_en="Dataset @N@", data_no="D-@N@", doi="10.99999/bench.@N@")


def base_inputs() -> list[Input]:
    """Every file as it is, and every record inside an OAI-PMH response on its own."""
    from tests.support.records import dataset

    out = [
        Input("bench/template", _benchmark_record().replace("@N@", "7").encode()),
        Input("records/dataset", dataset().encode()),
        Input("records/embargoed", dataset("猶予", access="embargoed", available="2030-04-01").encode()),
        Input("records/irdb", dataset(namespace=IRDB).encode()),
        Input("records/no-funding-type", dataset(omit=("funding", "type", "hosting", "description")).encode()),
    ]
    for ident, path in _files():
        raw = path.read_bytes()
        out.append(Input(ident, raw))
        try:
            root = etree.fromstring(raw, etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError:
            continue
        if root.tag != f"{{{OAI}}}OAI-PMH":
            continue
        metadata = root.iter(f"{{{OAI}}}metadata")
        for n, element in enumerate(metadata):
            if n >= RECORDS_PER_RESPONSE:
                break
            record = next(element.iterchildren(etree.Element), None)
            if record is not None:
                out.append(Input(f"{ident}#record{n}", etree.tostring(record)))
    return out


def _mutable(raw: bytes) -> etree._Element | None:
    """The record a mutant is made from: a JPCOAR or oai_dc document (not a wrapper, not a broken file)."""
    try:
        root = etree.fromstring(raw, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return None
    if root.tag in (f"{{{JP2}}}jpcoar", f"{{{JP1}}}jpcoar", f"{{{IRDB}}}jpcoar", f"{{{OAI_DC}}}dc"):
        return root
    return None


class _Mutator:
    def __init__(self, rng: random.Random, pools: dict[str, list[str]]) -> None:
        self.rng = rng
        self.pools = pools

    def value(self) -> str:
        section = self.rng.choice(("text", "text", "token", "uri", "date", "lang"))
        value = self.rng.choice(self.pools[section])
        twist = self.rng.random()
        if twist < 0.1:
            return f"  {value}\n "
        if twist < 0.15:
            return value.upper()
        if twist < 0.2:
            return value.title()
        return value

    def elements(self, root: etree._Element) -> list[etree._Element]:
        return [el for el in root.iter(etree.Element) if el is not root]

    def mutate(self, root: etree._Element) -> None:
        ops = [
            self.drop, self.drop, self.duplicate, self.reorder, self.set_text, self.set_text, self.empty,
            self.bad_date, self.bad_lang, self.other_namespace, self.variant_namespace, self.drop_attribute,
            self.drop_attribute, self.set_attribute, self.set_attribute, self.insert, self.insert, self.insert,
            self.vocabulary, self.vocabulary,
        ]
        for _ in range(self.rng.choice((1, 1, 2, 2, 3, 4))):
            self.rng.choice(ops)(root)

    def drop(self, root: etree._Element) -> None:
        elements = self.elements(root)
        if elements:
            el = self.rng.choice(elements)
            el.getparent().remove(el)

    def duplicate(self, root: etree._Element) -> None:
        elements = self.elements(root)
        if elements:
            el = self.rng.choice(elements)
            el.addnext(copy.deepcopy(el))

    def reorder(self, root: etree._Element) -> None:
        parents = [el for el in root.iter(etree.Element) if len(el) > 1]
        if parents:
            parent = root if self.rng.random() < 0.5 else self.rng.choice(parents)
            children = list(parent)
            self.rng.shuffle(children)
            for child in children:
                parent.append(child)

    def set_text(self, root: etree._Element) -> None:
        elements = self.elements(root)
        if elements:
            self.rng.choice(elements).text = self.value()

    def empty(self, root: etree._Element) -> None:
        elements = self.elements(root)
        if elements:
            el = self.rng.choice(elements)
            if self.rng.random() < 0.5:
                el.text = None
                for child in list(el):
                    el.remove(child)
            else:
                el.text = " \n\t " if self.rng.random() < 0.5 else ""

    def bad_date(self, root: etree._Element) -> None:
        dates = [el for el in root.iter(etree.Element) if el.tag in _DATE_TAGS]
        if dates:
            self.rng.choice(dates).text = self.rng.choice(self.pools["date"])
        else:
            self.insert(root, (DATACITE, "date"))

    def bad_lang(self, root: etree._Element) -> None:
        lang = self.rng.choice(self.pools["lang"])
        languages = [el for el in root.iter(f"{{{DC}}}language")]
        if languages and self.rng.random() < 0.4:
            self.rng.choice(languages).text = lang
            return
        elements = self.elements(root)
        if elements:
            self.rng.choice(elements).set(f"{{{XML}}}lang", lang)

    def other_namespace(self, root: etree._Element) -> None:
        elements = self.elements(root)
        if elements:
            el = self.rng.choice(elements)
            uri = self.rng.choice((*FOREIGN, JP1, IRDB, JP2, DC, DATACITE))
            local = etree.QName(el).localname
            el.tag = f"{{{uri}}}{local}" if uri else local

    def variant_namespace(self, root: etree._Element) -> None:
        """Every JPCOAR element (or a random share of them) in the IRDB or the 1.0 namespace."""
        target = self.rng.choice((IRDB, JP1, JP2))
        share = self.rng.choice((1.0, 1.0, 0.5))
        for el in root.iter(etree.Element):
            uri = etree.QName(el).namespace
            if uri in (JP2, JP1, IRDB) and (el is root or self.rng.random() < share):
                el.tag = f"{{{target}}}{etree.QName(el).localname}"

    def vocabulary(self, root: etree._Element) -> None:
        """A value of a controlled element (type, access right, version, language, rights) from the vocabularies."""
        controlled = [el for el in root.iter(etree.Element) if el.tag in _CONTROLLED]
        if not controlled or self.rng.random() < 0.3:
            self.insert(root, self.rng.choice(sorted(_CONTROLLED_NEW)))
            return
        el = self.rng.choice(controlled)
        el.text = self.value() if self.rng.random() < 0.3 else self.rng.choice(self.pools["text"])
        if self.rng.random() < 0.5:
            el.set(f"{{{RDF}}}resource", self.rng.choice(self.pools["uri"]))
        elif self.rng.random() < 0.3:
            el.attrib.pop(f"{{{RDF}}}resource", None)

    def drop_attribute(self, root: etree._Element) -> None:
        holders = [el for el in root.iter(etree.Element) if el.attrib]
        if holders:
            el = self.rng.choice(holders)
            name = self.rng.choice(list(el.attrib))
            del el.attrib[name]

    def set_attribute(self, root: etree._Element) -> None:
        elements = self.elements(root)
        if not elements:
            return
        el = self.rng.choice(elements)
        if el.attrib and self.rng.random() < 0.6:
            name = self.rng.choice(list(el.attrib))
        else:
            name = self.rng.choice(_ATTRIBUTES)
        el.set(name, self.value())

    def insert(self, root: etree._Element, tag: tuple[str, str] | None = None) -> None:
        uri, local = tag or self.rng.choice(_NEW_ELEMENTS)
        if root.tag == f"{{{OAI_DC}}}dc" and self.rng.random() < 0.7:
            uri = DC
            local = self.rng.choice(("title", "creator", "contributor", "subject", "description", "publisher", "date",
                                     "type", "format", "identifier", "source", "language", "relation", "coverage",
                                     "rights"))
        parents = [root, root, root, *self.elements(root)]
        parent = self.rng.choice(parents)
        el = etree.SubElement(parent, f"{{{uri}}}{local}")
        if self.rng.random() < 0.85:
            el.text = self.value()
        for _ in range(self.rng.choice((0, 1, 1, 2))):
            el.set(self.rng.choice(_ATTRIBUTES), self.value())
        if self.rng.random() < 0.3:
            child_uri, child_local = self.rng.choice(_NEW_ELEMENTS)
            etree.SubElement(el, f"{{{child_uri}}}{child_local}").text = self.value()
        position = self.rng.randrange(len(parent))
        parent.insert(position, el)


def mutants(bases: list[Input], per_record: int = MUTANTS_PER_RECORD) -> list[Input]:
    pools = _values()
    out = []
    for base in bases:
        root = _mutable(base.raw)
        if root is None:
            continue
        for k in range(per_record):
            rng = random.Random(f"{base.id}#{k}")
            tree = copy.deepcopy(root)
            _Mutator(rng, pools).mutate(tree)
            out.append(Input(f"{base.id}~{k}", etree.tostring(tree, encoding="UTF-8")))
    return out


def corpus() -> list[Input]:
    bases = base_inputs()
    return bases + mutants(bases)


# ---------------------------------------------------------------------------------------------------------- outputs


def _h(data: bytes | str | None) -> str:
    if data is None:
        return "-"
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:DIGITS]


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def map_input(item: Input) -> object:
    from gateway import pipeline

    # Profile "annex3" runs the Annex-3 rules on every record, so that every view is checked, not only datasets'.
    return pipeline.map_record(item.raw, prefix=None, profile="annex3", repository="Equivalence Repository")


def fingerprint(mapped: object) -> dict[str, str]:
    """sha256 (cut to DIGITS) of each part of a `pipeline.Mapped`."""
    outputs = getattr(mapped, "outputs", {})
    summary = getattr(mapped, "summary", None)
    findings = [f for f in getattr(mapped, "findings", []) if f.get("layer") in FINDING_LAYERS]
    return {
        "detected": _h(getattr(mapped, "detected_prefix", None)),
        "canonical": _h(getattr(mapped, "canonical", None)),
        "jpcoar_2.0": _h(outputs.get("jpcoar_2.0")),
        "jpcoar_1.0": _h(outputs.get("jpcoar_1.0")),
        "oai_dc": _h(outputs.get("oai_dc")),
        "view": _h(_json(getattr(mapped, "view", {}))),
        "summary": _h(_json(dataclasses.asdict(summary)) if summary is not None else None),
        "findings": _h(_json(findings)),
    }


def read_expected(path: Path = EXPECTED) -> dict[str, tuple[str, dict[str, str]]]:
    """id -> (input digest, {part: digest})."""
    out = {}
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("#") or not line.strip():
                continue
            ident, digest, *parts = line.rstrip("\n").split("\t")
            out[ident] = (digest, dict(zip(PARTS, parts, strict=True)))
    return out


def _record(path: Path) -> int:
    items = corpus()
    # mtime 0 and no file name in the gzip header: the same expectations always give the same bytes
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        gz.write(
            "# Fingerprints of pipeline.map_record for the equivalence corpus (tests/support/equivalence.py),\n"
            "# recorded from the code before the mapping stage was made faster.\n"
            "# Columns: input id, sha256 of the input, then\n"
            f"# {', '.join(PARTS)}; each a sha256 prefix of {DIGITS} hex digits, '-' for an absent part.\n".encode()
        )
        for item in items:
            parts = fingerprint(map_input(item))
            gz.write(("\t".join((item.id, item.digest, *(parts[p] for p in PARTS))) + "\n").encode())
    return len(items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--record", action="store_true", help="record the expectations (only if there are none)")
    parser.add_argument("--count", action="store_true", help="print the corpus size")
    args = parser.parse_args()
    if args.record:
        if EXPECTED.exists():
            sys.exit(f"{EXPECTED} exists: the expectations are the reference and are not re-recorded")
        print(f"recorded {_record(EXPECTED)} inputs in {EXPECTED}")
    if args.count:
        items = corpus()
        print(f"{len(items)} inputs ({len(base_inputs())} base)")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
