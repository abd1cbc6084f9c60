"""What the crosswalk tests share: the fixture records, reading them by XPath, validity against the OFFICIAL schemas.

Fixtures are read from tests/fixtures/crosswalk; official schemas and samples from the shared reference folder.  A
test that needs the official schemas skips LOUDLY when the folder is missing (`require_reference`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import pytest
from lxml import etree

from gateway import crosswalk
from gateway import namespaces as ns
from gateway.xmlsafe import parse_bytes
from tests.support import paths

FIXTURES = paths.FIXTURES / "crosswalk"
GOLDEN = FIXTURES / "golden"
UPDATE_GOLDEN = os.environ.get("GATEWAY_UPDATE_GOLDEN") == "1"
OUTPUTS = ("jpcoar_2.0", "jpcoar_1.0", "oai_dc")
NSMAP = {k: v for k, v in ns.NSMAP.items() if k != "xml"}
REFERENCE = paths.shared_reference()
#: the official sample of the common metadata items (Annex 3), under REFERENCE
CAO = "xsd/jpcoar/2.0/samples/14_common_metadata_elements_cao.xml"


# ---------------------------------------------------------------------------------------------- official schemas

def _schema_validator() -> Callable[[str, etree._Element], tuple[bool, str]]:
    """Validation against the official schemas: the shared helper when it is there, else a private offline loader."""
    try:
        from tests.support.official_schemas import official_metadata_schema, official_validate

        def validate(prefix: str, element: etree._Element) -> tuple[bool, str]:
            return official_validate(official_metadata_schema(prefix), _fresh(element))

        return validate
    except ImportError:
        pass

    xsd = REFERENCE / "xsd"
    remote = {
        "http://www.w3.org/2001/03/xml.xsd": xsd / "w3c/xml.xsd",
        "http://www.w3.org/2009/01/xml.xsd": xsd / "w3c/xml.xsd",
        "http://dublincore.org/schemas/xmls/simpledc20021212.xsd": xsd / "oai/dcmi/simpledc20021212.xsd",
    }

    class Offline(etree.Resolver):
        def resolve(self, url, pubid, context):  # type: ignore[no-untyped-def]
            if url in remote:
                return self.resolve_filename(str(remote[url]), context)
            if url.startswith("http://www.openarchives.org/OAI/2.0/"):
                return self.resolve_filename(str(xsd / "oai/2.0" / url.rsplit("/", 1)[1]), context)
            return None

    files = {"jpcoar_2.0": "jpcoar/2.0/jpcoar_scm.xsd", "jpcoar_1.0": "jpcoar/1.0/jpcoar_scm.xsd",
             "oai_dc": "oai/2.0/oai_dc.xsd"}
    cache: dict[str, etree.XMLSchema] = {}
    lock = threading.Lock()

    def validate(prefix: str, element: etree._Element) -> tuple[bool, str]:
        with lock:
            if prefix not in cache:
                parser = etree.XMLParser(no_network=True)
                parser.resolvers.add(Offline())
                cache[prefix] = etree.XMLSchema(etree.parse(str(xsd / files[prefix]), parser))
            schema = cache[prefix]
            ok = schema.validate(_fresh(element))
            return ok, "" if ok else str(schema.error_log)

    return validate


def _fresh(element: etree._Element) -> etree._ElementTree:
    # validate the serialised form: that is what is stored and served
    return etree.ElementTree(etree.fromstring(crosswalk.serialize(element)))


_validate = _schema_validator()


def require_reference() -> None:
    if not (REFERENCE / "xsd" / "jpcoar" / "2.0" / "jpcoar_scm.xsd").is_file():
        pytest.skip(
            f"OFFICIAL REFERENCE MISSING: {REFERENCE} not found (set GATEWAY_SHARED_DIR to the 'shared' folder); "
            "crosswalk outputs are NOT being checked against the official schemas"
        )


def assert_valid(prefix: str, element: etree._Element, what: str) -> None:
    require_reference()
    ok, log = _validate(prefix, element)
    assert ok, f"{what} is not valid {prefix}:\n{log}\n{crosswalk.serialize(element).decode()[:3000]}"


# ---------------------------------------------------------------------------------------------- helpers

def load(name: str) -> etree._Element:
    return parse_bytes((FIXTURES / name).read_bytes())


def xp(element: etree._Element, path: str) -> list[str]:
    return [v if isinstance(v, str) else "".join(v.itertext()) for v in element.xpath(path, namespaces=NSMAP)]


def c14n(data: bytes) -> bytes:
    parser = etree.XMLParser(remove_blank_text=True)
    return etree.tostring(etree.fromstring(data, parser), method="c14n")


def pretty(element: etree._Element) -> bytes:
    copy = etree.fromstring(crosswalk.serialize(element))
    etree.indent(copy, space="  ")
    return etree.tostring(copy, encoding="UTF-8", xml_declaration=True) + b"\n"


FIXTURE_FORMATS = {
    "dataset_full_2.0.xml": "jpcoar_2.0",
    "weko_irdb_2.0.xml": "jpcoar_2.0",
    "article_1.0.xml": "jpcoar_1.0",
    "dspace_oai_dc.xml": "oai_dc",
    "out_of_order_2.0.xml": "jpcoar_2.0",
}


def dc_document(body: str) -> etree._Element:
    return etree.fromstring(
        f'<oai_dc:dc xmlns:oai_dc="{ns.OAI_DC}" xmlns:dc="{ns.DC}">{body}</oai_dc:dc>'.encode()
    )

