"""A real browser for the dashboard's tests: Debian's headless Chromium driven by Selenium 4, and what it drives.

- `browser_problem()` says why no browser can be had (None when one can): the tests skip LOUDLY with that reason.
- `chromium(download_dir)` starts headless Chromium through the system chromedriver. Selenium's own driver manager
  is never used (it would download a browser; the tests use the one the operating system installed).
- `running_gateway(...)` serves the gateway app over a fresh SQLite database on 127.0.0.1, with a manager and a
  viewer; `running_provider(...)` serves a local OAI-PMH repository (tests/support/oaiserver.py) that also answers
  ListMetadataFormats and ListSets, as the dashboard's connection test asks for them.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from gateway.app import create_app
from gateway.db import make_engine, migrate, session_factory, transaction
from tests.conftest import make_config
from tests.support.oaiserver import FixtureRecord, FixtureRepository
from tests.support.records import dataset
from tests.support.servers import serve_wsgi

CHROMIUM = os.environ.get("GATEWAY_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("GATEWAY_CHROMEDRIVER", "/usr/bin/chromedriver")
PASSWORD = "browser-test-password"
WAIT = 20.0  # seconds any one step may take before the test fails (a bound, not a performance target)


def browser_problem() -> str | None:
    """None when headless Chromium can be driven here; otherwise why not, said by the skip."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the Python package selenium is not installed (pip install -e '.[test]')"
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            return f"{path} is missing: install Debian's {package} (./manage.sh test does when apt-get is available)"
    try:
        subprocess.run([CHROMEDRIVER, "--version"], capture_output=True, timeout=20, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{CHROMEDRIVER} does not run: {exc}"
    return None


def chromium(download_dir: Path, *, lang: str = "en-US", width: int = 1280, height: int = 900) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",  # containers and root (CI) cannot use Chromium's sandbox
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-sync",
        "--hide-scrollbars",
        f"--window-size={width},{height}",
        f"--lang={lang}",
    ):
        options.add_argument(arg)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(download_dir),
            "download.prompt_for_download": False,
            "intl.accept_languages": lang,
        },
    )
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(WAIT)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(download_dir)})
    return driver


def wait_until(what: str, check: Callable[[], Any], *, timeout: float = WAIT, step: float = 0.2) -> Any:
    """Poll `check` until it returns something true; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)


def wait_for_download(folder: Path, suffix: str, *, timeout: float = WAIT) -> Path:
    def done() -> Path | None:
        files = [p for p in folder.glob(f"*{suffix}") if p.stat().st_size > 0]
        return files[0] if files and not list(folder.glob("*.crdownload")) else None

    return wait_until(f"a downloaded {suffix} file in {folder}", done, timeout=timeout)


# --- the OAI-PMH provider the browser harvests from ----------------------------------------------------------------


class ListingRepository(FixtureRepository):
    """The fixture repository with ListMetadataFormats and ListSets answered too."""

    def __init__(self, records: list[FixtureRecord], *, sets: dict[str, str] | None = None, **kw: Any) -> None:
        super().__init__(records, **kw)
        self.set_names = sets or {}

    def respond(self, args: dict[str, str]) -> bytes:
        verb = args.get("verb")
        if verb == "ListMetadataFormats":
            return self._envelope(
                args,
                "<ListMetadataFormats><metadataFormat>"
                f"<metadataPrefix>{self.prefix}</metadataPrefix>"
                "<schema>https://github.com/JPCOAR/schema/blob/master/2.0/jpcoar_scm.xsd</schema>"
                "<metadataNamespace>https://github.com/JPCOAR/schema/blob/master/2.0/</metadataNamespace>"
                "</metadataFormat></ListMetadataFormats>",
            )
        if verb == "ListSets":
            if not self.set_names:
                return self._error(args, "noSetHierarchy", "no sets")
            inner = "".join(
                f"<set><setSpec>{escape(spec)}</setSpec><setName>{escape(name)}</setName></set>"
                for spec, name in self.set_names.items()
            )
            return self._envelope(args, f"<ListSets>{inner}</ListSets>")
        return super().respond(args)


# Fictitious projects and records: two projects, all four access rights, and one record quarantined for lacking its
# hosting institution (Annex-3 item 14).
PROJECT_A = "JPMJPF2301"
PROJECT_B = "JP22H00001"
QUARANTINED_TITLE = "管理機関の記載がない観測データ"


def sample_records(extra: int = 0) -> list[FixtureRecord]:
    specs = [
        ("海洋観測データ 2024", PROJECT_A, "open", None, ()),
        ("沿岸水温の連続記録", PROJECT_A, "open", None, ()),
        ("共同研究の実験データ", PROJECT_A, "restricted", None, ()),
        ("公開猶予中の調査データ", PROJECT_B, "embargoed", "2030-04-01", ()),
        ("個人情報を含む面接記録", PROJECT_B, "metadata-only", None, ()),
        (QUARANTINED_TITLE, PROJECT_B, "open", None, ("hosting",)),
    ]
    for i in range(extra):
        specs.append((f"追加データ {i + 1}", (PROJECT_A, PROJECT_B)[i % 2], ("open", "restricted")[i % 2], None, ()))
    records = []
    for n, (title, jgn, access, available, omit) in enumerate(specs, start=1):
        xml = dataset(
            title,
            title_en=f"Dataset {n}",
            jgn=jgn,
            access=access,
            available=available,
            data_no=f"D-{n:04d}",
            doi=f"10.99999/browser.{n}",
            omit=omit,
        )
        records.append(FixtureRecord(f"oai:fixture.example.ac.jp:{n}", f"2026-01-{n:02d}T00:00:00Z", xml, ["data"]))
    return records


@contextmanager
def running_provider(records: list[FixtureRecord] | None = None) -> Iterator[tuple[str, ListingRepository]]:
    repo = ListingRepository(records or sample_records(), sets={"data": "Research data"}, page_size=3)
    with serve_wsgi(repo) as base:
        yield base + "/oai", repo


# --- the gateway under test ----------------------------------------------------------------------------------------


@dataclass
class RunningGateway:
    base: str
    app: Any
    engine: Any
    config: Any
    users: dict[str, str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.base + path


@contextmanager
def running_gateway(
    workdir: Path,
    *,
    sources: list[dict[str, Any]] | None = None,
    projects: list[dict[str, Any]] | None = None,
) -> Iterator[RunningGateway]:
    """The gateway app as a real HTTP server over a fresh SQLite database, with users `manager` and `viewer`."""
    from gateway.admin import auth, operations
    from gateway.admin.operations import harvests
    from gateway.config import from_dict

    db_url = f"sqlite:///{workdir / 'gateway.db'}"
    config = make_config(db_url, sources or [])
    if projects:
        data = {
            "repository": {
                "name": config.repository.name,
                "base_url": config.repository.base_url,
                "identifier": config.repository.identifier,
                "admin_email": list(config.repository.admin_email),
            },
            "database": {"url": db_url},
            "sources": sources or [],
            "projects": projects,
        }
        config = from_dict(data, path=None)
    engine = make_engine(db_url)
    migrate(engine)
    with transaction(session_factory(engine)) as session:
        auth.create_user(session, "manager", PASSWORD, "manager")
        auth.create_user(session, "viewer", PASSWORD, "viewer")
    app = create_app(config, engine)
    try:
        with serve_wsgi(app) as base:
            yield RunningGateway(base, app, engine, config, {"manager": PASSWORD, "viewer": PASSWORD})
            for name in list(harvests._active):
                operations.wait_for_harvest(name, WAIT)
    finally:
        engine.dispose()
