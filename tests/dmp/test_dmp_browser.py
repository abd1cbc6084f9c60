"""The dashboard's DMP pages in a real browser (headless Chromium): the nav link, the projects with their current
version, a project's history with what each version changed. Skipped LOUDLY only where no browser can be had."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.db import session_factory
from gateway.dmp import versions
from tests.dmp.files import AMED, CAA, amed, amed_dataset, bessi2, dataset, write
from tests.support.browser import PASSWORD, browser_problem, chromium, running_gateway, wait_until

_problem = browser_problem()
pytestmark = pytest.mark.skipif(_problem is not None, reason=f"SKIPPED LOUDLY: no browser for the tests: {_problem}")


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[Any]:
    (tmp_path / "downloads").mkdir()
    browser = chromium(tmp_path / "downloads")
    try:
        yield browser
    finally:
        browser.quit()


def css(driver: Any, selector: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, selector)


def rows(driver: Any, selector: str) -> list[str]:
    from selenium.webdriver.common.by import By

    return [row.text for row in driver.find_elements(By.CSS_SELECTOR, selector)]


def test_a_viewer_reads_the_dmps_and_a_projects_history(driver, tmp_path):
    with running_gateway(tmp_path) as gw:
        sessions = session_factory(gw.engine)
        versions.import_file(sessions, write(tmp_path / "v1.xlsx", bessi2(
            [dataset("測定データ", number="D-1"), dataset("画像データ", number="D-2", metadata_disclosure="共有")],
            with_number=True)))
        versions.import_file(sessions, write(tmp_path / "v2.csv", bessi2(
            [dataset("測定データ", number="D-1"), dataset("画像データ", number="D-2"),
             dataset("新データ", number="D-3")], with_number=True, period="2023年4月1日～2027年3月31日")))
        versions.import_file(sessions, write(tmp_path / "amed.csv", amed([amed_dataset("ゲノム", "制限公開")])))

        driver.get(gw.url("/admin/login?lang=en"))
        css(driver, "#username-field").send_keys("viewer")
        css(driver, "#password-field").send_keys(PASSWORD)
        css(driver, "#login-button").click()
        wait_until("the overview", lambda: driver.current_url.rstrip("/").endswith("/admin"))
        css(driver, "header nav a[href='/admin/dmp']").click()
        wait_until("the DMP page", lambda: driver.current_url.endswith("/admin/dmp"))
        assert css(driver, "header nav a[aria-current='page']").text == "DMP"
        listed = rows(driver, "#dmp-projects tbody tr")
        assert len(listed) == 2 and listed[0].startswith(AMED) and listed[1].startswith(CAA)
        assert "2023-04-01 – 2027-03-31" in listed[1]
        assert css(driver, f"tr[data-jgn='{CAA}'] td[data-key='version']").text == "2"
        assert css(driver, f"tr[data-jgn='{CAA}'] td[data-key='datasets']").text == "3"

        css(driver, f"tr[data-jgn='{CAA}'] td a").click()
        wait_until("the history", lambda: driver.current_url.endswith(f"/admin/dmp/{CAA}"))
        history = rows(driver, "#dmp-versions tbody tr")
        assert history[0].startswith("2 current") and "first version" in history[1]
        assert ("+1 dataset (D-3); D-2: metadata shared → public; period 2023-04-01–2026-03-31 → "
                "2023-04-01–2027-03-31") in history[0]
        assert [r.split()[0] for r in rows(driver, "#dmp-datasets tbody tr")] == ["D-1", "D-2", "D-3"]

        driver.get(gw.url(f"/admin/dmp/{CAA}?lang=ja"))
        assert "初版" in css(driver, "#dmp-versions").text and "現行" in css(driver, "#dmp-versions").text
