"""The stylesheets as code: recompiled from an edited mappings folder, unable to reach outside it, vocabularies read
once per compilation, the schema location passed in, one stylesheet per thread, and the speed of a typical record."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

from gateway import annex3, crosswalk
from tests.crosswalk.checks import OUTPUTS, dc_document, load, xp


def test_reload_recompiles_from_an_edited_mappings_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "mappings"
    shutil.copytree(crosswalk.MAPPINGS_DIR, copy)
    xsl = copy / "oai_dc_in.xsl"
    title = '<dc:title><xsl:call-template name="element-lang"/><xsl:value-of select="normalize-space(.)"/></dc:title>'
    text = xsl.read_text(encoding="utf-8")
    assert title in text  # the edit below must change something
    xsl.write_text(text.replace(title, title.replace("<xsl:value-of", "EDITED <xsl:value-of")), encoding="utf-8")
    monkeypatch.setenv("GATEWAY_MAPPINGS_DIR", str(copy))
    crosswalk.reload()
    try:
        c = crosswalk.to_canonical(dc_document("<dc:title>x</dc:title>"))
        assert xp(c, "dc:title") == ["EDITED x"]
        assert annex3.items()  # the Annex-3 table follows the reload too
    finally:
        monkeypatch.delenv("GATEWAY_MAPPINGS_DIR")
        crosswalk.reload()
    assert xp(crosswalk.to_canonical(dc_document("<dc:title>x</dc:title>")), "dc:title") == ["x"]


def test_stylesheets_cannot_reach_outside_mappings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "mappings"
    shutil.copytree(crosswalk.MAPPINGS_DIR, copy)
    secret = tmp_path / "secret.xml"
    secret.write_text("<secret>s3cr3t</secret>", encoding="utf-8")
    (copy / "oai_dc_in.xsl").write_text(
        '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
        f'<xsl:template match="/"><out><xsl:value-of select="document(\'{secret.as_uri()}\')"/>'
        "<xsl:value-of select=\"document('http://127.0.0.1:9/x.xml')\"/></out></xsl:template>"
        "</xsl:stylesheet>",
        encoding="utf-8",
    )
    monkeypatch.setenv("GATEWAY_MAPPINGS_DIR", str(copy))
    crosswalk.reload()
    try:
        with pytest.raises(crosswalk.CrosswalkError):
            crosswalk.to_canonical(dc_document("<dc:title>x</dc:title>"))
    finally:
        monkeypatch.delenv("GATEWAY_MAPPINGS_DIR")
        crosswalk.reload()


def test_vocabularies_are_read_once_per_compilation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Global document() variables are served from trees parsed when the stylesheets are compiled, and a reload()
    reads the vocabularies again (a manager's edit takes effect with `gateway remap`)."""
    copy = tmp_path / "mappings"
    shutil.copytree(crosswalk.MAPPINGS_DIR, copy)
    types = copy / "vocab" / "coar_resource_types.xml"
    odd = "<dc:title>x</dc:title><dc:type>Surely A Dataset</dc:type>"
    monkeypatch.setenv("GATEWAY_MAPPINGS_DIR", str(copy))
    crosswalk.reload()
    try:
        assert xp(crosswalk.to_canonical(dc_document(odd)), "dc:type") == ["other"]
        text = types.read_text(encoding="utf-8")
        types.write_text(text.replace("<alias>data set</alias>", "<alias>surely a dataset</alias>"), encoding="utf-8")
        assert "surely a dataset" in types.read_text(encoding="utf-8")
        # compiled already: the edit is not seen until the mappings are reloaded
        assert xp(crosswalk.to_canonical(dc_document(odd)), "dc:type") == ["other"]
        crosswalk.reload()
        assert xp(crosswalk.to_canonical(dc_document(odd)), "dc:type") == ["dataset"]
        # once compiled, a run reads no file: the vocabulary is held in memory
        types.unlink()
        assert xp(crosswalk.to_canonical(dc_document(odd)), "dc:type") == ["dataset"]
    finally:
        monkeypatch.delenv("GATEWAY_MAPPINGS_DIR")
        crosswalk.reload()


@pytest.mark.parametrize("where", ["absolute", "relative"])
def test_global_vocabulary_outside_mappings_is_refused(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "mappings"
    shutil.copytree(crosswalk.MAPPINGS_DIR, copy)
    secret = tmp_path / "secret.xml"
    secret.write_text("<secret>s3cr3t</secret>", encoding="utf-8")
    href = secret.as_uri() if where == "absolute" else "../secret.xml"
    (copy / "oai_dc_in.xsl").write_text(
        '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
        f"<xsl:variable name=\"SECRET\" select=\"document('{href}')\"/>"
        '<xsl:template match="/"><out><xsl:value-of select="$SECRET"/></out></xsl:template>'
        "</xsl:stylesheet>",
        encoding="utf-8",
    )
    monkeypatch.setenv("GATEWAY_MAPPINGS_DIR", str(copy))
    crosswalk.reload()
    try:
        with pytest.raises(crosswalk.CrosswalkError):
            crosswalk.to_canonical(dc_document("<dc:title>x</dc:title>"))
    finally:
        monkeypatch.delenv("GATEWAY_MAPPINGS_DIR")
        crosswalk.reload()


@pytest.mark.parametrize("declared_in", ["stylesheet", "import"])
def test_schema_location_reaches_the_rendering(
    declared_in: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The schema location is compiled in as the parameter's default, or passed on each run where it is declared in
    an imported module; either way the rendering carries it."""
    copy = tmp_path / "mappings"
    shutil.copytree(crosswalk.MAPPINGS_DIR, copy)
    param = "<xsl:param name=\"schema_location\" select=\"''\"/>"
    head = '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
    body = '<xsl:template match="/"><out><xsl:value-of select="$schema_location"/></out></xsl:template>'
    if declared_in == "import":
        (copy / "lib" / "params.xsl").write_text(head + param + "</xsl:stylesheet>", encoding="utf-8")
        text = head + '<xsl:import href="lib/params.xsl"/>' + body + "</xsl:stylesheet>"
    else:
        text = head + param + body + "</xsl:stylesheet>"
    (copy / "oai_dc_out.xsl").write_text(text, encoding="utf-8")
    monkeypatch.setenv("GATEWAY_MAPPINGS_DIR", str(copy))
    crosswalk.reload()
    try:
        out = crosswalk.render(crosswalk.to_canonical(load("dataset_full_2.0.xml")), "oai_dc")
        fmt = crosswalk.formats()["oai_dc"]
        assert out.text == f"{fmt.namespace} {fmt.schema}"
    finally:
        monkeypatch.delenv("GATEWAY_MAPPINGS_DIR")
        crosswalk.reload()


def test_threads_get_their_own_stylesheets() -> None:
    expected = crosswalk.serialize(crosswalk.render(crosswalk.to_canonical(load("dataset_full_2.0.xml")), "oai_dc"))
    results: list[bytes] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(20):
                c = crosswalk.to_canonical(load("dataset_full_2.0.xml"))
                results.append(crosswalk.serialize(crosswalk.render(c, "oai_dc")))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 80 and set(results) == {expected}


def test_speed_of_a_typical_record(capsys: pytest.CaptureFixture[str]) -> None:
    source = load("dataset_full_2.0.xml")
    crosswalk.to_canonical(source)  # compile outside the measurement
    n = 100
    start = time.perf_counter()
    for _ in range(n):
        c = crosswalk.to_canonical(source)
        for p in OUTPUTS:
            crosswalk.serialize(crosswalk.render(c, p))
        annex3.summarize(c)
    rate = n / (time.perf_counter() - start)
    with capsys.disabled():
        print(f"\ncrosswalk: to_canonical + render x3 + summarize: {rate:.0f} records/s")
    assert rate > 20
