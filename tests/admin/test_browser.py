"""The dashboard in a real browser (Debian's headless Chromium, Selenium 4), against real local servers.

A repository manager logs in, adds an OAI-PMH source pointing at a local test provider, tests its connection,
harvests it, sees the run and the counts, opens the quarantined record and reads its finding, downloads the counts,
and logs out. Then every admin URL is visited by an anonymous browser, and every write is tried by a viewer.
Skipped LOUDLY, with the reason, only where no browser can be had.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import (
    PASSWORD,
    PROJECT_A,
    PROJECT_B,
    QUARANTINED_TITLE,
    WAIT,
    browser_problem,
    chromium,
    running_gateway,
    running_provider,
    wait_for_download,
    wait_until,
)

_problem = browser_problem()
pytestmark = pytest.mark.skipif(_problem is not None, reason=f"SKIPPED LOUDLY: no browser for the tests: {_problem}")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[tuple[Any, Path]]:
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver = chromium(downloads)
    try:
        yield driver, downloads
    finally:
        driver.quit()


def by_css(driver: Any, selector: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, selector)


def all_css(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def page_text(driver: Any) -> str:
    return by_css(driver, "body").text


def click_and_wait(driver: Any, element: Any) -> None:
    """Click something that loads a new page, and wait for that page (the old body goes stale)."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    body = by_css(driver, "body")
    element.click()

    def replaced() -> bool:
        try:
            body.is_enabled()
        except StaleElementReferenceException:
            return driver.execute_script("return document.readyState") == "complete"
        except WebDriverException as exc:
            # Caught mid-navigation, Chromium reports the old node as detached rather than stale: the page is being
            # replaced; look again on the next poll.
            if "does not belong to the document" not in str(exc):
                raise
        return False

    wait_until("the next page", replaced)


def log_in(driver: Any, base: str, username: str) -> None:
    driver.get(base + "/admin/")
    assert "/admin/login" in driver.current_url
    by_css(driver, "#username-field").send_keys(username)
    by_css(driver, "#password-field").send_keys(PASSWORD)
    click_and_wait(driver, by_css(driver, "#login-button"))
    assert driver.current_url.rstrip("/").endswith("/admin"), driver.current_url
    assert by_css(driver, "#username").text == username


def test_a_manager_harvests_a_source_and_reads_the_results(browser, tmp_path):
    driver, downloads = browser
    with running_provider() as (provider_url, provider), running_gateway(tmp_path) as gw:
        log_in(driver, gw.base, "manager")

        # add an OAI-PMH source pointing at the local provider
        click_and_wait(driver, by_css(driver, "header nav a[href='/admin/sources']"))
        click_and_wait(driver, by_css(driver, "#add-source"))
        by_css(driver, "#field-name").send_keys("fixture")
        by_css(driver, "#field-url").send_keys(provider_url)
        by_css(driver, "#field-schedule").send_keys("0 3 * * *")
        click_and_wait(driver, by_css(driver, "#save-source"))
        assert "/admin/sources" in driver.current_url
        section = by_css(driver, "#source-fixture")
        assert provider_url in section.text

        # test its connection: Identify, formats and sets are shown
        click_and_wait(driver, section.find_element("css selector", "button.test-connection"))
        shown = page_text(driver)
        assert "Connection works" in by_css(driver, "#test-result").text
        assert "Fixture repository" in shown and "jpcoar_2.0" in shown and "Research data" in shown
        verbs = [r.get("verb") for r in provider.requests]
        assert {"Identify", "ListMetadataFormats", "ListSets"} <= set(verbs)

        # harvest now: the run page, refreshed until the run has ended, with its figures
        driver.get(gw.url("/admin/sources"))
        click_and_wait(driver, by_css(driver, "#source-fixture button.harvest-now"))
        assert re.search(r"/admin/runs/\d+$", driver.current_url), driver.current_url

        def finished() -> bool:
            driver.refresh()
            return by_css(driver, "#run-status").text in ("succeeded", "failed")

        wait_until("the harvest to end", finished, step=0.5)
        assert by_css(driver, "#run-status").text == "succeeded"
        assert by_css(driver, "#run-new").text == "6"
        run_url = driver.current_url

        # the run in the history, and the counts on the overview
        driver.get(gw.url("/admin/runs"))
        history = by_css(driver, "#runs").text
        assert "fixture" in history and "succeeded" in history
        assert run_url.endswith(by_css(driver, "#runs a").get_attribute("href").split(gw.base)[-1])
        driver.get(gw.url("/admin/"))
        cells = [td.text for td in all_css(driver, "#overview-fixture td")]
        assert cells[-4:] == ["5", "0", "1", "0"], cells
        assert by_css(driver, "#total-served").text == "5"
        driver.save_screenshot(str(tmp_path / "overview.png"))

        # the quarantined record, reached from the quarantine page, with its finding
        click_and_wait(driver, by_css(driver, "header nav a[href='/admin/quarantine']"))
        group = by_css(driver, ".group")
        assert group.find_element("css selector", ".count").text == "1"
        click_and_wait(driver, group.find_element("css selector", "a.record-link"))
        assert by_css(driver, "#record-title").text == QUARANTINED_TITLE
        assert by_css(driver, "#record-status").text == "quarantined"
        finding = by_css(driver, "#findings .finding-error .finding-message").text
        assert "Hosting institution" in finding
        driver.save_screenshot(str(tmp_path / "record.png"))

        # the projects page: the chart and the counts, downloaded as CSV
        click_and_wait(driver, by_css(driver, "header nav a[href='/admin/projects']"))
        bars = {
            (seg.get_attribute("data-bar").split()[0], seg.get_attribute("data-category")): seg.get_attribute(
                "data-count"
            )
            for seg in all_css(driver, "#chart rect.segment")
        }
        assert bars[(PROJECT_A, "open")] == "2" and bars[(PROJECT_B, "embargoed")] == "1"
        driver.save_screenshot(str(tmp_path / "projects.png"))
        by_css(driver, "#download-csv").click()
        downloaded = wait_for_download(downloads, ".csv")
        rows = list(csv.reader(downloaded.read_text(encoding="utf-8-sig").splitlines()))
        header = rows[0]
        by_jgn = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
        open_col = next(h for h in header if h.endswith(" open"))
        quarantined_col = next(h for h in header if "quarantined" in h)
        assert by_jgn[PROJECT_A][open_col] == "2"
        assert by_jgn[PROJECT_B][quarantined_col] == "1"

        # log out: the dashboard is closed again
        click_and_wait(driver, by_css(driver, "#logout"))
        assert "/admin/login" in driver.current_url
        driver.get(gw.url("/admin/projects"))
        assert "/admin/login" in driver.current_url
        assert PROJECT_A not in page_text(driver)
    for name in ("overview", "record", "projects"):
        assert (tmp_path / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _example_url(rule: Any) -> str:
    values = {"name": "fixture", "run_id": "1", "ident": "1", "report": "counts", "fmt": "csv"}
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], rule.rule)


def test_admin_urls_refuse_anonymous_visitors_and_a_viewers_writes(browser, tmp_path):
    driver, _ = browser
    sources = [{"name": "fixture", "kind": "directory", "path": str(tmp_path)}]
    with running_gateway(tmp_path, sources=sources) as gw:
        rules = [r for r in gw.app.url_map.iter_rules() if r.endpoint.startswith("admin.")]
        reads = sorted({_example_url(r) for r in rules if "GET" in (r.methods or set())})
        writes = sorted({_example_url(r) for r in rules if "POST" in (r.methods or set())})
        assert len(reads) >= 10 and len(writes) >= 7

        # an anonymous visitor is sent to the login page from every page, and sees nothing of it
        for url in reads:
            driver.get(gw.url(url))
            assert "/admin/login" in driver.current_url, url
            assert by_css(driver, "#login-button")
            assert "fixture" not in page_text(driver), url

        # a viewer reads every page, sees no write control, and every write is refused
        log_in(driver, gw.base, "viewer")
        for url in reads:
            if url.startswith("/admin/projects/") or url.endswith(".toml"):
                continue  # downloads: checked by the page tests
            driver.get(gw.url(url))
            assert "/admin/login" not in driver.current_url, url
            assert not all_css(driver, "form[action*='/harvest'], form[action*='/delete'], #add-source"), url
        token = by_css(driver, "header form input[name=csrf_token]").get_attribute("value")
        for url in writes:
            driver.get(gw.url("/admin/"))
            driver.execute_script(
                "const f = document.createElement('form'); f.method = 'post'; f.action = arguments[0];"
                "for (const [k, v] of [['csrf_token', arguments[1]], ['enabled', '0'], ['name', 'x']]) {"
                "  const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v;"
                "  f.appendChild(i); }"
                "document.body.appendChild(f); f.submit();",
                url,
                token,
            )
            wait_until(f"the answer to POST {url}", lambda: "manager role" in page_text(driver), timeout=WAIT)
        from gateway.admin import sourcestore
        from gateway.db import session_factory

        with session_factory(gw.engine)() as session:
            source = sourcestore.get_source(session, "fixture")
        assert source is not None and source["enabled"] and source["edited_at"] is None


def test_the_language_switch_in_the_browser(browser, tmp_path):
    driver, _ = browser
    with running_gateway(tmp_path) as gw:
        log_in(driver, gw.base, "manager")
        assert "Overview" in by_css(driver, "header nav").text
        click_and_wait(driver, by_css(driver, "#lang-ja"))
        assert "概要" in by_css(driver, "header nav").text
        driver.get(gw.url("/admin/runs"))
        assert "収集履歴" in by_css(driver, "h1").text
        click_and_wait(driver, by_css(driver, "#lang-en"))
        assert "Harvest runs" in by_css(driver, "h1").text
