"""GakuNin RDM exports: CSV reports (ja, en), RO-Crate, registration JSON -> the same records; disclosure; bad input."""

from __future__ import annotations

import io
import json
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import func, select

from gateway.app import create_app
from gateway.commonitems import CI, parse_funder_label
from gateway.db import session_factory
from gateway.harvest.grdm import read_export
from gateway.harvest.runner import run_harvest
from gateway.harvest.spreadsheet import InputError
from gateway.models import PublishedFormat, Record
from tests.conftest import make_config
from tests.support import paths
from tests.support.official_schemas import REFERENCE
from tests.support.servers import serve_wsgi

FIXTURES = paths.FIXTURES / "grdm"
FORMS = ("report_ja.csv", "report_en.csv", "project-rocrate.zip", "registration.json")
OAI = "{http://www.openarchives.org/OAI/2.0/}"


def harvest(engine, db_url: str, path: Path | str, *, name: str = "rdm", **extra: Any):
    source = {"name": name, "kind": "grdm", **({"url": path} if str(path).startswith("http") else {"path": str(path)})}
    source.update(extra)
    cfg = make_config(db_url, [source])
    sessions = session_factory(engine)
    return cfg, sessions, run_harvest(cfg, sessions, cfg.source(name))


def snapshot(sessions, source: str | None = None) -> dict[str, dict[str, Any]]:
    with sessions() as s:
        query = select(Record).where(Record.source_deleted.is_(False))
        if source:
            query = query.where(Record.source.has(name=source))
        return {
            r.source_identifier: {
                "canonical": r.canonical_xml,
                "annex3": r.annex3,
                "access_right": r.access_right,
                "available": r.available_date,
                "findings": [f for f in r.findings or [] if f["severity"] == "error"],
                "status": r.status,
                "private": r.private,
            }
            for r in s.scalars(query)
        }


# ---------------------------------------------------------------------------------------------------------- parsing


def test_funder_code_is_read_by_pattern_in_malformed_labels() -> None:
    assert parse_funder_label("文部科学省|Ministry of Education|1001") == (
        "文部科学省",
        "Ministry of Education",
        "1001",
    )
    nedo = (
        "国立研究開発法人新エネルギー・産業技術総合開発機構"
        "|New Energy and Industrial Technology Development|1305 Organization"
    )
    ja, en, code = parse_funder_label(nedo)
    assert (code, en) == ("1305", "New Energy and Industrial Technology Development Organization")
    assert ja == "国立研究開発法人新エネルギー・産業技術総合開発機構"
    assert parse_funder_label("1020|科学技術振興機構|Japan Science and Technology Agency")[2] == "1020"
    assert parse_funder_label("消費者庁|Consumer Affairs Agency") == ("消費者庁", "Consumer Affairs Agency", None)


@pytest.mark.parametrize("form", FORMS)
def test_every_export_form_reads_three_records(form: str) -> None:
    records = read_export(form, (FIXTURES / form).read_bytes())
    assert sorted(r.identifier for r in records) == [
        "JPNE20240001/NE-0001",
        "JPNE20240001/NE-0002",
        "JPNE20240001/NE-0003",
    ]


def test_the_four_forms_give_the_same_canonical_records() -> None:
    from gateway.pipeline import map_record

    results = {}
    for form in FORMS:
        records = read_export(form, (FIXTURES / form).read_bytes())
        results[form] = {
            r.identifier: (
                map_record(r.raw, prefix=r.prefix, profile="annex3", repository="R").canonical,
                r.private.get("remarks_ja"),
            )
            for r in records
        }
    first = results[FORMS[0]]
    assert all(value[0] for value in first.values())
    for form in FORMS[1:]:
        assert results[form] == first, form


def test_reference_sample_file_metadata_maps(tmp_path: Path) -> None:
    """The fully filled file-metadata record of GakuNin RDM's own tests, wrapped as a registration."""
    sample = REFERENCE / "grdm" / "sample-file-metadata-derived-from-weko-test.json"
    if not sample.is_file():
        pytest.skip(f"REFERENCE MISSING: {sample} not found (set GATEWAY_SHARED_DIR to the 'shared' folder)")
    data = json.loads(sample.read_text(encoding="utf-8"))
    registration = {
        "funder": {"value": "JST"},
        "japan-grant-number": {"value": "JPMJXX0001"},
        "grdm-files": {"value": json.dumps([data], ensure_ascii=False)},
    }
    (record,) = read_export("sample.json", json.dumps(registration).encode())
    assert record.identifier == "JPMJXX0001/00001"
    assert record.disclosure == "private"  # closed access metadata
    root = etree.fromstring(record.raw)
    j = "{https://github.com/JPCOAR/schema/blob/master/2.0/}"
    assert root.find(f".//{j}funderIdentifier").text == "1020"
    names = [e.text for e in root.iter(f"{j}creatorName")]
    assert names == ["情報太郎", "Taro Joho"]  # creator keys name-ja / name-en are read like name_ja / name_en
    assert b"Comment" not in record.raw and record.private == {"remarks_ja": "コメント", "remarks_en": "Comment"}


# ---------------------------------------------------------------------------------------------------------- database


def test_forms_import_to_the_same_records_and_closed_metadata_is_never_published(engine, db_url, tmp_path) -> None:
    snapshots = []
    for index, form in enumerate(FORMS):
        cfg, sessions, run = harvest(engine, db_url, FIXTURES / form, name=f"rdm{index}")
        assert run.status == "succeeded", run.errors
        assert run.records_new == 3
        snap = snapshot(sessions, f"rdm{index}")
        snapshots.append({k: {x: y for x, y in v.items() if x != "status"} for k, v in snap.items()})
        for ident, record in snap.items():
            assert record["findings"] == [], (form, ident, record["findings"])
    for other in snapshots[1:]:
        assert other == snapshots[0]

    with sessions() as s:
        by_form = {}
        by_id = {}
        for r in s.scalars(select(Record)):
            by_form.setdefault(r.source.name, {})[r.source_identifier] = r
            by_id[r.id] = r
    # the CSV report does not carry the metadata access right: the source default (unknown) withholds everything
    assert {r.status for r in by_form["rdm0"].values()} == {"withheld"}
    # the JSON forms do: open metadata is published (the embargoed one with its available date), closed is not —
    # once: the same datasets from four sources are one record each, served from the source stored first

    def served(record: Record) -> Record:
        return by_id[record.duplicate_of] if record.duplicate_of is not None else record

    for name in ("rdm2", "rdm3"):
        records = by_form[name]
        assert served(records["JPNE20240001/NE-0001"]).status == "published"
        assert served(records["JPNE20240001/NE-0002"]).status == "published"
        # the first JSON form stored is served (the CSV forms' records are not publishable), the second is its duplicate
        first = by_form["rdm2"]["JPNE20240001/NE-0001"]
        assert records["JPNE20240001/NE-0001"].status == ("published" if name == "rdm2" else "withheld")
        assert records["JPNE20240001/NE-0001"].duplicate_of == (None if name == "rdm2" else first.id)
        assert records["JPNE20240001/NE-0002"].available_date == "2027-04-01"
        assert records["JPNE20240001/NE-0003"].status == "withheld"
        assert records["JPNE20240001/NE-0003"].disclosure == "private"
        assert records["JPNE20240001/NE-0003"].access_right == "restricted"

    # the provider: never the closed record, never a remark
    client = create_app(cfg, engine).test_client()
    body = client.get("/oai", query_string={"verb": "ListRecords", "metadataPrefix": "jpcoar_2.0"}).data
    root = etree.fromstring(body)
    titles = [t.text for t in root.iter("{http://purl.org/dc/elements/1.1/}title")]
    assert "充放電サイクル試験データ" in titles and "電極断面SEM画像" in titles
    assert "共同研究先提供データ" not in titles
    for name in ("rdm2", "rdm3"):
        ident = by_form[name]["JPNE20240001/NE-0003"].local_id
        answer = client.get(
            "/oai",
            query_string={
                "verb": "GetRecord",
                "metadataPrefix": "oai_dc",
                "identifier": f"oai:gateway.test.ac.jp:{ident}",
            },
        ).data
        assert b"idDoesNotExist" in answer
    with sessions() as s:
        served = b"".join(s.scalars(select(PublishedFormat.xml)))
    assert "倫理審査済み".encode() not in served and "契約により非公開".encode() not in served
    assert b"rdm-office@example.ac.jp" in served  # the published contact


def test_folder_newest_export_wins_and_reimport_is_a_snapshot(engine, db_url, tmp_path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    old = folder / "2024-old.json"
    shutil.copy(FIXTURES / "registration.json", old)
    os.utime(old, (1_700_000_000, 1_700_000_000))
    cfg, sessions, run = harvest(engine, db_url, folder)
    assert run.records_new == 3
    with sessions() as s:
        stamp = {r.source_identifier: r.updated_at for r in s.scalars(select(Record))}

    # a newer export of the same project without NE-0002: the published NE-0002 becomes a deleted record
    data = json.loads(old.read_text(encoding="utf-8"))
    files = json.loads(data["grdm-files"]["value"])
    data["grdm-files"]["value"] = json.dumps([f for f in files if "sem-images" not in f["path"]], ensure_ascii=False)
    newer = folder / "2025-new.json"
    newer.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    run = run_harvest(cfg, sessions, cfg.source("rdm"))
    assert run.status == "succeeded", run.errors
    assert (run.records_unchanged, run.records_deleted, run.records_new) == (2, 1, 0)
    with sessions() as s:
        records = {r.source_identifier: r for r in s.scalars(select(Record))}
        assert records["JPNE20240001/NE-0002"].status == "deleted"
        for ident in ("JPNE20240001/NE-0001", "JPNE20240001/NE-0003"):
            assert records[ident].updated_at == stamp[ident]  # unchanged: no churn
    client = create_app(cfg, engine).test_client()
    body = client.get("/oai", query_string={"verb": "ListIdentifiers", "metadataPrefix": "jpcoar_2.0"}).data
    root = etree.fromstring(body)
    deleted = [h for h in root.iter(f"{OAI}header") if h.get("status") == "deleted"]
    assert len(deleted) == 1 and deleted[0].findtext(f"{OAI}identifier").endswith("NE-0002")


def test_url_source(engine, db_url) -> None:
    payload = (FIXTURES / "project-rocrate.zip").read_bytes()

    def app(environ, start_response):  # type: ignore[no-untyped-def]
        if environ["PATH_INFO"] == "/export.zip":
            start_response("200 OK", [("Content-Type", "application/zip")])
            return [payload]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"no"]

    with serve_wsgi(app) as base:
        _cfg, _sessions, run = harvest(engine, db_url, f"{base}/export.zip")
        assert run.status == "succeeded" and run.records_new == 3
        _, _, missing = harvest(engine, db_url, f"{base}/gone.zip", name="gone")
    assert missing.status == "failed" and "404" in missing.message


# ---------------------------------------------------------------------------------------------------------- bad input


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _crate_json() -> bytes:
    with zipfile.ZipFile(FIXTURES / "project-rocrate.zip") as archive:
        return archive.read("ro-crate-metadata.json")


def _bad_inputs() -> dict[str, tuple[str, bytes, str]]:
    """Exports that cannot be read at all: each is refused whole."""
    registration = json.loads((FIXTURES / "registration.json").read_text(encoding="utf-8"))
    bad_inner = dict(registration, **{"grdm-files": {"value": "[{not json"}})
    not_a_list = dict(registration, **{"grdm-files": {"value": json.dumps({"path": "a"})}})
    crate = json.loads(_crate_json())
    for entity in crate["@graph"]:
        if "RDMProjectMetadata" in entity.get("@type", []):
            entity["text"] = "{broken"
    return {
        "traversal": ("export.zip", _zip({"../../etc/ro-crate-metadata.json": _crate_json()}), "outside the archive"),
        "absolute": ("export.zip", _zip({"/tmp/ro-crate-metadata.json": _crate_json()}), "outside the archive"),
        "bomb": ("export.zip", _zip({"ro-crate-metadata.json": b" " * (80 * 1024 * 1024)}), "would expand"),
        "ratio": ("export.zip", _zip({"ro-crate-metadata.json": b"{" + b" " * (20 * 1024 * 1024) + b"}"}), "ratio"),
        "not-zip": ("export.zip", b"PK\x03\x04 this is not really a zip archive at all", "not a zip"),
        "truncated-zip": ("export.zip", (FIXTURES / "project-rocrate.zip").read_bytes()[:900], "zip"),
        "empty": ("report.csv", b"", "empty"),
        "truncated-json": ("registration.json", (FIXTURES / "registration.json").read_bytes()[:700], "not valid JSON"),
        "wrong-encoding": ("report.csv", "データ".encode("utf-16-le") * 3 + b"\xff\xfe\x00\xd8", "encoding"),
        "latin1-garbage": ("report.csv", bytes(range(128, 256)) * 4, "encoding"),
        "bad-inner-json": ("registration.json", json.dumps(bad_inner).encode(), "grdm-files"),
        "files-not-a-list": ("registration.json", json.dumps(not_a_list).encode(), "list of files"),
        "bad-project-text": ("export.zip", _zip({"ro-crate-metadata.json": json.dumps(crate).encode()}), "text"),
        "no-header": ("report.csv", "体系的番号,助成番号\r\nJPNE20240001,1\r\n".encode(), "unknown column"),
        "no-crate": ("export.zip", _zip({"readme.txt": b"hello"}), "no ro-crate-metadata.json"),
    }


@pytest.mark.parametrize("case", sorted(_bad_inputs()))
def test_bad_input_is_a_clear_error(case: str) -> None:
    name, data, expected = _bad_inputs()[case]
    with pytest.raises(InputError) as info:
        read_export(name, data)
    message = str(info.value)
    assert name in message and expected.lower() in message.lower(), message


def test_a_bad_date_holds_its_row_and_names_row_and_column() -> None:
    lines = (FIXTURES / "report_ja.csv").read_bytes().decode("utf-8").split("\r\n")
    bad = lines[2].replace('"2025-04-01"', '"2025-13-45"', 1)
    records = {r.identifier: r for r in read_export("report.csv", "\r\n".join([lines[0], lines[1], bad]).encode())}
    assert sorted(records) == ["JPNE20240001/NE-0001", "JPNE20240001/NE-0002"]
    assert b"problem" not in records["JPNE20240001/NE-0001"].raw
    (problem,) = etree.fromstring(records["JPNE20240001/NE-0002"].raw).iter(f"{{{CI}}}problem")
    assert dict(problem.attrib) == {
        "file": "report.csv",
        "row": "3",
        "column": "date",
        "header-ja": "掲載日・掲載更新日",
        "header-en": "Date (Issued / Updated)",
        "value": "2025-13-45",
        "expected": "a date that exists, written YYYY-MM-DD (or YYYY/MM/DD)",
    }
    assert "not a date" in problem.text


@pytest.mark.parametrize("case", ["traversal", "bomb", "bad-inner-json", "wrong-encoding", "empty", "truncated-zip"])
def test_bad_input_loses_nothing(engine, db_url, tmp_path, case: str) -> None:
    path = tmp_path / "export"
    path.mkdir()
    good = path / "registration.json"
    shutil.copy(FIXTURES / "registration.json", good)
    os.utime(good, (1_700_000_000, 1_700_000_000))
    cfg, sessions, run = harvest(engine, db_url, path)
    assert run.status == "succeeded"
    before = snapshot(sessions)
    with sessions() as s:
        stamps = {r.source_identifier: (r.updated_at, r.status) for r in s.scalars(select(Record))}
        served = s.scalar(select(func.count()).select_from(PublishedFormat))

    name, data, expected = _bad_inputs()[case]
    (path / f"newer-{name}").write_bytes(data)
    run = run_harvest(cfg, sessions, cfg.source("rdm"))
    assert run.status == "failed" and expected.lower() in (run.message or "").lower(), run.message
    assert snapshot(sessions) == before
    with sessions() as s:
        assert {r.source_identifier: (r.updated_at, r.status) for r in s.scalars(select(Record))} == stamps
        assert s.scalar(select(func.count()).select_from(PublishedFormat)) == served


# ---------------------------------------------------------------------------------------------------------- config


def test_config_of_the_import_kinds() -> None:
    from gateway.config import ConfigError

    cfg = make_config("sqlite://", [{"name": "rdm", "kind": "grdm", "path": "exports"}])
    source = cfg.source("rdm")
    assert (source.profile, source.metadata_disclosure) == ("annex3", "unknown")
    sheet = make_config("sqlite://", [{"name": "s", "kind": "spreadsheet", "url": "http://127.0.0.1:1/s.xlsx"}])
    assert sheet.source("s").url == "http://127.0.0.1:1/s.xlsx"
    for bad, words in (
        ({"name": "rdm", "kind": "grdm"}, "either a path or a url"),
        ({"name": "rdm", "kind": "grdm", "path": "a", "url": "http://127.0.0.1/x"}, "either a path or a url"),
        ({"name": "rdm", "kind": "spreadsheet", "path": "a", "sheet": 2}, "unknown key"),
        ({"name": "rdm", "kind": "grdm", "path": "a", "metadata_disclosure": "maybe"}, "metadata_disclosure"),
    ):
        with pytest.raises(ConfigError) as info:
            make_config("sqlite://", [bad])
        assert words in str(info.value)
