"""Screenshots of the dashboard for the documentation: docs/overview.png, docs/record.png, docs/projects.png.

    .venv/bin/python scripts/screenshots.py [--out docs] [--lang en|ja]

It runs what the browser test runs (tests/support/browser.py): a local OAI-PMH provider with fictitious records, the
gateway over a fresh SQLite database in a temporary folder, Debian's headless Chromium; a manager adds the provider as
a source and harvests it, then each page is captured at its full height. Japanese text needs a CJK font installed
(Debian: fonts-ipafont-gothic or fonts-noto-cjk); without one it shows as boxes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.browser import (  # noqa: E402
    PASSWORD,
    PROJECT_A,
    PROJECT_B,
    QUARANTINED_TITLE,
    browser_problem,
    chromium,
    running_gateway,
    running_provider,
    sample_records,
    wait_until,
)
from tests.support.oaiserver import FixtureRecord  # noqa: E402
from tests.support.records import dataset  # noqa: E402


def _full_page(driver, path: Path, width: int = 1280) -> None:  # type: ignore[no-untyped-def]
    """The whole page (up to a bound): the window is made as tall as the document, measured at the final width."""
    script = "return Math.max(document.documentElement.scrollHeight, document.body.scrollHeight, 600)"
    driver.set_window_size(width, 900)
    for _ in range(2):  # a resize can reflow the page: measure again at the new size
        height = min(int(driver.execute_script(script)), 2400)
        driver.set_window_size(width, height + 120)
        inner = int(driver.execute_script("return window.innerHeight"))
        if inner < height:
            driver.set_window_size(width, height + 120 + (height - inner))
    driver.save_screenshot(str(path))
    driver.set_window_size(width, 900)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs"), help="folder for the PNG files (default: docs)")
    parser.add_argument("--lang", default="en", choices=("en", "ja"), help="language of the labels")
    args = parser.parse_args()
    problem = browser_problem()
    if problem:
        print(f"no browser: {problem}", file=sys.stderr)
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    today = date.today()
    ended, ends = (today - timedelta(days=20)).isoformat(), (today + timedelta(days=200)).isoformat()
    projects = [
        {"jgn": PROJECT_A, "name": "海洋環境の長期観測", "start": "2021-04-01", "end": ended},
        {"jgn": PROJECT_B, "name": "地域社会の調査研究", "start": "2022-04-01", "end": ends},
    ]
    records = sample_records(extra=8)
    due = (today + timedelta(days=12)).isoformat()
    records.append(
        FixtureRecord(
            "oai:fixture.example.ac.jp:99",
            "2026-01-20T00:00:00Z",
            dataset("まもなく公開される観測データ", jgn=PROJECT_A, access="embargoed", available=due, data_no="D-0099"),
            ["data"],
        )
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        downloads = work / "downloads"
        downloads.mkdir()
        driver = chromium(downloads, lang="ja" if args.lang == "ja" else "en-US")
        try:
            with running_provider(records) as (provider_url, _), running_gateway(work, projects=projects) as gw:
                driver.get(gw.url(f"/admin/login?lang={args.lang}"))
                driver.find_element("css selector", "#username-field").send_keys("manager")
                driver.find_element("css selector", "#password-field").send_keys(PASSWORD)
                driver.find_element("css selector", "#login-button").click()
                wait_until("the overview", lambda: driver.current_url.rstrip("/").endswith("/admin"))
                driver.get(gw.url("/admin/sources/new"))
                driver.find_element("css selector", "#field-name").send_keys("weko-fixture")
                driver.find_element("css selector", "#field-url").send_keys(provider_url)
                driver.find_element("css selector", "#field-schedule").send_keys("0 3 * * *")
                driver.find_element("css selector", "#save-source").click()
                wait_until("the sources page", lambda: driver.current_url.endswith("#source-weko-fixture"))
                driver.find_element("css selector", "#source-weko-fixture button.harvest-now").click()
                wait_until("the run page", lambda: "/admin/runs/" in driver.current_url)

                def finished() -> bool:
                    driver.refresh()
                    return (
                        driver.find_element("css selector", "#run-status")
                        .get_attribute("class")
                        .endswith(("succeeded", "failed"))
                    )

                wait_until("the harvest to end", finished, step=0.5)
                driver.get(gw.url("/admin/"))
                _full_page(driver, out / "overview.png")
                driver.get(gw.url("/admin/records?q=" + QUARANTINED_TITLE))
                driver.find_element("css selector", "a.record-link").click()
                wait_until("the record page", lambda: "/admin/records/" in driver.current_url)
                _full_page(driver, out / "record.png")
                driver.get(gw.url("/admin/projects"))
                _full_page(driver, out / "projects.png")
        finally:
            driver.quit()
    for name in ("overview", "record", "projects"):
        print(out / f"{name}.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
