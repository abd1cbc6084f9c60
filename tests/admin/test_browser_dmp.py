"""The DMP report page in a real browser (headless Chromium): a viewer opens it from the navigation, reads each
project's totals and rows, filters to one project as of a date, downloads the rows as CSV, and sees the same numbers
as `gateway report dmp`; an anonymous visitor is sent to the login page. Skipped LOUDLY only where no browser can be
had."""

from __future__ import annotations

import csv
from datetime import datetime
from typing import Any

import pytest

from gateway.db import session_factory
from gateway.dmp import versions
from gateway.harvest.runner import run_harvest
from tests.admin.test_browser import all_css, browser, by_css, click_and_wait, log_in  # noqa: F401 (fixture)
from tests.dmp.test_matching import DATASETS, SOURCE_A
from tests.reports.test_counts_and_deadlines import CAA, write_folder
from tests.support.browser import browser_problem, running_gateway, wait_for_download
from tests.support.dmp_files import write_dmp

_problem = browser_problem()
pytestmark = pytest.mark.skipif(_problem is not None, reason=f"SKIPPED LOUDLY: no browser for the tests: {_problem}")


def summary_numbers(driver: Any) -> dict[str, str]:
    return {cell.get_attribute("data-key"): cell.text for cell in all_css(driver, "#dmp-summary td[data-key]")}


def test_the_dmp_page_in_the_browser(browser, tmp_path):  # noqa: F811 (the fixture)
    driver, downloads = browser
    write_folder(tmp_path / "a", SOURCE_A)
    sources = [{"name": "files-a", "kind": "directory", "path": str(tmp_path / "a")}]
    with running_gateway(tmp_path, sources=sources) as gw:
        sessions = session_factory(gw.engine)
        assert run_harvest(gw.config, sessions, gw.config.sources[0]).status == "succeeded"
        versions.import_file(sessions, write_dmp(tmp_path / "dmp.xlsx", CAA, DATASETS), now=datetime(2022, 4, 1))

        driver.get(gw.url("/admin/reports/dmp"))
        assert "/admin/login" in driver.current_url  # anonymous: nothing of the report
        log_in(driver, gw.base, "viewer")
        click_and_wait(driver, by_css(driver, "header nav a[href='/admin/reports/dmp']"))
        # Source a only: D-m6 and D-m10 are not held, and m9 is (it is not deleted here); today, all four are overdue.
        assert summary_numbers(driver) == {"declared": "10", "registered": "6", "not_registered": "4",
                                           "overdue": "4", "undeclared": "1", "status_disagrees": "2"}
        sections = [row.get_attribute("data-section") for row in all_css(driver, f"#dmp-{CAA} tbody tr")]
        assert sections.count("registered") == 6 and sections[-1] == "undeclared"

        # As of the first fiscal year's due date, nothing is overdue yet.
        by_css(driver, "#dmp-project").send_keys(CAA)
        driver.execute_script("document.getElementById('dmp-today').value = '2023-05-31'")
        click_and_wait(driver, by_css(driver, "form.filters button"))
        assert summary_numbers(driver)["overdue"] == "0" and "2023-05-31" in driver.current_url
        driver.save_screenshot(str(tmp_path / "dmp.png"))

        by_css(driver, "#dmp-download-csv").click()
        rows = list(csv.DictReader(wait_for_download(downloads, ".csv").read_text(encoding="utf-8-sig").splitlines()))
        assert [r["区分 section"] for r in rows].count("not_registered") == 4
        assert {r["状態 state"] for r in rows if r["区分 section"] == "not_registered"} == {"open"}
    assert (tmp_path / "dmp.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
