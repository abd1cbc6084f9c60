"""The connection test of a source before it is saved or harvested: Identify, ListMetadataFormats and ListSets of an
OAI-PMH source, a look into a directory, or a dry read of an export; nothing is stored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.namespaces import OAI

_O = f"{{{OAI}}}"
#: a connection test reads at most this much of one answer: it is a look at the source, not a harvest
TEST_MAX_BYTES = 8 * 1024 * 1024
TEST_MAX_SET_PAGES = 5
TEST_TIMEOUT = 20.0


class _TestFailure(Exception):
    pass


def _fetch(session: Any, url: str, params: dict[str, str], timeout: float) -> bytes:
    import requests

    from gateway.harvest.oaipmh import USER_AGENT

    try:
        with session.get(url, params=params, timeout=timeout, stream=True, headers={"User-Agent": USER_AGENT}) as resp:
            if resp.status_code != 200:
                raise _TestFailure(f"{params['verb']}: HTTP {resp.status_code} {resp.reason or ''}".strip())
            body = bytearray()
            for chunk in resp.iter_content(65536):
                body += chunk
                if len(body) > TEST_MAX_BYTES:
                    raise _TestFailure(f"{params['verb']}: the answer is larger than {TEST_MAX_BYTES} bytes")
            return bytes(body)
    except requests.RequestException as exc:
        raise _TestFailure(f"{params['verb']}: {exc.__class__.__name__}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else exc.__class__.__name__


def _parse(data: bytes, verb: str) -> Any:
    from gateway.harvest import HarvestError
    from gateway.harvest.oairesponse import OAIProtocolError, parse_response

    try:
        return parse_response(data, what=verb).root
    except OAIProtocolError as exc:
        if verb == "ListSets" and exc.code == "noSetHierarchy":
            return None
        raise _TestFailure(f"{verb}: {exc}") from None
    except HarvestError as exc:
        raise _TestFailure(str(exc)) from None


def _text(el: Any, tag: str) -> str | None:
    child = el.find(f"{_O}{tag}")
    return child.text.strip() if child is not None and child.text else None


def test_connection(source: dict[str, Any]) -> dict[str, Any]:
    """Identify, ListMetadataFormats and ListSets of an OAI-PMH source (a directory source: its folder is read).

    `ok` is whether the source can be harvested as configured; `problems` lists what was wrong with the other verbs,
    which do not stop a harvest by themselves.
    """
    result: dict[str, Any] = {"ok": False, "identify": {}, "formats": [], "sets": [], "error": None, "problems": []}
    kind = source.get("kind", "oai-pmh")
    if kind == "directory":
        return _test_directory(source, result)
    if kind in ("grdm", "spreadsheet"):
        return _test_export(source, result)
    url = str(source.get("url") or "")
    if not url.startswith(("http://", "https://")):
        result["error"] = "an oai-pmh source needs an http(s) url"
        return result
    timeout = min(float(source.get("timeout") or TEST_TIMEOUT), TEST_TIMEOUT)
    import requests

    with requests.Session() as http:
        try:
            root = _parse(_fetch(http, url, {"verb": "Identify"}, timeout), "Identify")
            identify = root.find(f"{_O}Identify")
            if identify is None:
                raise _TestFailure("Identify: the answer has no Identify element")
            for child in identify:
                if isinstance(child.tag, str) and child.text and child.text.strip():
                    result["identify"].setdefault(child.tag.split("}")[-1], child.text.strip())
        except _TestFailure as exc:
            result["error"] = str(exc)
            return result
        result["ok"] = True
        try:
            root = _parse(_fetch(http, url, {"verb": "ListMetadataFormats"}, timeout), "ListMetadataFormats")
            for fmt in root.iter(f"{_O}metadataFormat"):
                result["formats"].append(
                    {
                        "prefix": _text(fmt, "metadataPrefix"),
                        "schema": _text(fmt, "schema"),
                        "namespace": _text(fmt, "metadataNamespace"),
                    }
                )
            wanted = source.get("metadata_prefix")
            if wanted and not any(f["prefix"] == wanted for f in result["formats"]):
                result["problems"].append(f"the source does not list the metadata format {wanted}")
        except _TestFailure as exc:
            result["problems"].append(str(exc))
        try:
            params = {"verb": "ListSets"}
            for _ in range(TEST_MAX_SET_PAGES):
                root = _parse(_fetch(http, url, params, timeout), "ListSets")
                if root is None:
                    break
                for item in root.iter(f"{_O}set"):
                    result["sets"].append({"spec": _text(item, "setSpec"), "name": _text(item, "setName")})
                token = root.find(f".//{_O}resumptionToken")
                if token is None or not (token.text or "").strip():
                    break
                params = {"verb": "ListSets", "resumptionToken": token.text.strip()}
            else:
                result["problems"].append(f"ListSets: only the first {TEST_MAX_SET_PAGES} pages were read")
        except _TestFailure as exc:
            result["problems"].append(str(exc))
    return result


def _test_directory(source: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    raw = source.get("path")
    if not raw:
        result["error"] = "a directory source needs a path"
        return result
    path = Path(str(raw))
    if not path.is_dir():
        result["error"] = f"{path} is not a folder the gateway can read"
        return result
    files = sum(1 for _ in path.rglob("*.xml"))
    result["ok"] = True
    result["identify"] = {"path": str(path), "xml_files": str(files)}
    if not files:
        result["problems"].append("the folder holds no .xml files")
    return result


def _test_export(source: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    """A GakuNin RDM export or a spreadsheet: read it as a harvest would, store nothing, and say what it holds."""
    from gateway.admin.sourcestore import SourceError, validate
    from gateway.harvest import open_source

    try:
        config = validate(source)
        records = errors = 0
        for page in open_source(config).pages():
            records += len(page.records)
            errors += sum(1 for r in page.records if r.error)
            result["problems"].extend(page.warnings)
    except SourceError as exc:
        result["error"] = str(exc)
        return result
    except Exception as exc:  # any unreadable export is reported to the manager, in its own words
        result["error"] = str(exc) or type(exc).__name__
        return result
    result["ok"] = True
    result["identify"] = {"location": str(source.get("path") or source.get("url") or ""), "records": str(records)}
    if errors:
        result["problems"].append(f"{errors} record(s) could not be read")
    return result
