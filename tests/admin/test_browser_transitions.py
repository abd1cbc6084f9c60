"""The transitions page in a real browser (headless Chromium): a manager follows the navigation link, reads the
transitions and reviews of a given day, records a publication of the whole project with the form, and sees both
datasets move to its date; a viewer sees the lists without the form; an anonymous visitor is sent to the login page.
Skipped LOUDLY, with the reason, only where no browser can be had."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.admin.test_browser import all_css, by_css, click_and_wait, log_in, page_text
from tests.support.amed_dmp import END_PLUS_2, PAPER, write_dmp
from tests.support.browser import browser_problem, chromium, running_gateway

_problem = browser_problem()
pytestmark = pytest.mark.skipif(_problem is not None, reason=f"SKIPPED LOUDLY: no browser for the tests: {_problem}")


def _cells(driver, table: str) -> list[list[str]]:
    return [[td.text for td in tr.find_elements("css selector", "td")] for tr in all_css(driver, f"#{table} tbody tr")]


def test_a_manager_records_a_publication_in_the_browser(tmp_path):
    from gateway.db import session_factory
    from gateway.dmp import publications
    from gateway.dmp.versions import import_file

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver = chromium(downloads)
    try:
        with running_gateway(tmp_path) as gw:
            sessions = session_factory(gw.engine)
            import_file(sessions, write_dmp(tmp_path / "dmp.csv"), now=datetime(2024, 4, 2))
            with sessions() as s:
                publications.record(s, "JP21ab0101001", published_on=datetime(2025, 5, 31).date(), kind="paper",
                                    dataset="D-1")  # fmt: skip
                s.commit()

            driver.get(gw.url("/admin/transitions"))
            assert "/admin/login" in driver.current_url

            log_in(driver, gw.base, "manager")
            click_and_wait(driver, by_css(driver, "header nav a[href$='/admin/transitions']"))
            assert by_css(driver, "h1").text == "Restricted sharing moving to open"
            driver.get(gw.url("/admin/transitions?today=2026-01-01&within=90"))
            rows = _cells(driver, "transitions")
            assert [(r[0], r[1], r[5]) for r in rows] == [("overdue", PAPER, "D-1"), ("due", END_PLUS_2, "D-2")]
            assert [r[1] for r in _cells(driver, "reviews")] == [END_PLUS_2, "2028-03-31"]

            form = by_css(driver, "#publication-form")
            form.find_element("css selector", "select[name=kind] option[value=patent]").click()
            driver.execute_script("arguments[0].value = '2025-01-15'", form.find_element("css selector", "[name=date]"))
            form.find_element("css selector", "[name=note]").send_keys("特許第1号")
            click_and_wait(driver, by_css(driver, "#record-publication"))
            assert "The publication is recorded." in page_text(driver)
            listed = _cells(driver, "publication-list")
            assert tuple(listed[0][1:5]) == (
                "patent application published",
                "2025-01-15",
                "the whole project",
                "特許第1号",
            )
            driver.get(gw.url("/admin/transitions?today=2025-02-01"))
            assert [(r[1], r[5]) for r in _cells(driver, "transitions")] == [
                ("2025-01-15", "D-1"),
                ("2025-01-15", "D-2"),
            ]

            click_and_wait(driver, by_css(driver, "#logout"))
            log_in(driver, gw.base, "viewer")
            driver.get(gw.url("/admin/transitions?today=2026-01-01"))
            assert len(_cells(driver, "transitions")) == 2 and not all_css(driver, "#publication-form")
            assert not all_css(driver, "#publication-list form")
    finally:
        driver.quit()
