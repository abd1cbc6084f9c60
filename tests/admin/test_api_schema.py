"""A schema-driven test of the management API: schemathesis generates requests from the OpenAPI description and sends
them to the application in process (WSGI), authenticated with a manager's token. No answer may be a server error,
every answer must conform to the description (status code, content type, headers, body schema), a request that
breaks the description must be refused, and an operation must refuse a request without credentials.

Deterministic by default, so that CI fails only for a reason: each operation is one test, its boundary cases (the
coverage phase: every maxLength + 1, minimum - 1, missing required field, wrong type, unknown field ...) are derived
from the schema, and the random part is derandomised, at most EXAMPLES examples per operation. For a longer,
randomised run (a new seed every time, printed with any failure so that it can be replayed):

    GATEWAY_API_FUZZ=500 .venv/bin/python -m pytest -q tests/admin/test_api_schema.py -p no:cacheprovider
    GATEWAY_API_FUZZ=500 GATEWAY_API_FUZZ_SEED=1234 ...   # replays one run

The connection test and the harvest are left out because they reach out to whatever URL a generated source names;
tests/admin/test_api.py runs both against a local repository, and tests/admin/test_api_validation.py checks the rules
this test can only sample.
"""

from __future__ import annotations

import os
import random

import pytest

schemathesis = pytest.importorskip("schemathesis")

from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from gateway.admin import auth, openapi, sourcestore  # noqa: E402
from gateway.app import create_app  # noqa: E402
from gateway.db import make_engine, migrate, session_factory, transaction  # noqa: E402
from tests.conftest import make_config  # noqa: E402

EXCLUDED = ["testSource", "harvestSource"]
EXAMPLES = 25  # per operation and mode: with the coverage phase, enough to reach every rule of every schema
FUZZ = int(os.environ.get("GATEWAY_API_FUZZ") or 0)
SEED = int(os.environ.get("GATEWAY_API_FUZZ_SEED") or (random.SystemRandom().randrange(2**32) if FUZZ else 13))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
    unsupported_method,
]
# A refused request may also be one too large to read: 413 is as much a rejection as 400.
REJECTIONS = ["400", "401", "403", "404", "405", "409", "413", "5xx"]


def _config() -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            # The checks are the test; Hypothesis's health checks (slow data, filtered data) only make it flaky.
            "suppress-health-check": ["all"],
            "generation": {
                "mode": "all",
                "max-examples": FUZZ or EXAMPLES,
                "deterministic": not FUZZ,
                "database": "none",  # no example database: a run must not depend on what an earlier run found
            },
            "phases": {"examples": {"enabled": False}, "stateful": {"enabled": False}},
            "checks": {"negative_data_rejection": {"expected-statuses": REJECTIONS}},
            # A generated name is almost never a source's, and a PUT to a missing source ends in 404 whatever its
            # body; aimed at an existing source, every body reaches the validation and the store.
            "operations": [{"include-operation-id": "updateSource", "parameters": {"path.name": "files"}}],
        }
    )


# The document itself, not a copy fetched from a running app: test_the_served_description_is_this_one shows they are
# the same (the served title adds the repository's name).
schema = schemathesis.openapi.from_dict(openapi.spec(), config=_config()).exclude(operation_id=EXCLUDED)


@pytest.fixture(scope="module")
def api_app(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('schema') / 'gateway.db'}"
    engine = make_engine(url)
    migrate(engine)
    config = make_config(url, sources=[{"name": "weko", "kind": "oai-pmh", "url": "http://127.0.0.1:9/oai"}])
    app = create_app(config, engine)
    with transaction(session_factory(engine)) as s:
        auth.create_user(s, "schema-manager", "a long enough password", "manager")
        token = auth.create_token(s, "schema", "schema-manager")
        sourcestore.save_source(s, {"name": "files", "kind": "directory", "path": "/nonexistent/folder"})
        sourcestore.save_source(s, {"name": "rdm", "kind": "grdm", "path": "/nonexistent/report.csv"})
    yield app, token
    engine.dispose()


@pytest.fixture(scope="module", autouse=True)
def _say_the_seed(request):
    # Once, at the start, whatever the verbosity: a failure of a randomised run is replayed with this line.
    if FUZZ:
        capture = request.config.pluginmanager.get_plugin("capturemanager")
        with capture.global_and_fixture_disabled():
            print(f"\nrandomised API run: replay with GATEWAY_API_FUZZ={FUZZ} GATEWAY_API_FUZZ_SEED={SEED}")


def test_the_served_description_is_this_one(api_app):
    app, _ = api_app
    served = app.test_client().get("/api/openapi.json").get_json()
    expected = openapi.spec(app.extensions["gateway"].config)
    assert served == expected


@schema.parametrize()
def test_the_api_conforms_to_its_description(case, api_app):
    app, token = api_app
    # The schema was loaded from the document before the app existed; the checks' own probes (a request without
    # credentials, an undeclared method) go wherever the schema's app is, so it must be this one.
    case.operation.schema.app = app
    case.call_and_validate(app=app, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
