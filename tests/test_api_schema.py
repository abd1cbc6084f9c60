"""A schema-driven test of the management API: schemathesis generates requests from /api/openapi.json and sends them
to the application in-process (WSGI), authenticated with a manager's token. No answer may be a server error, and
every answer must conform to the description (status code, content type, body schema); invalid input must be refused.

Bounded: at most 20 examples per operation. The connection test and the harvest are left out because they reach
out to whatever URL a generated source names; tests/test_api.py runs both against a local repository.
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from gateway.admin import auth, sourcestore  # noqa: E402
from gateway.app import create_app  # noqa: E402
from gateway.db import make_engine, migrate, session_factory, transaction  # noqa: E402
from tests.conftest import make_config  # noqa: E402

EXCLUDED = {"testSource", "harvestSource"}
MAX_EXAMPLES = 20
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


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
    yield app, token
    engine.dispose()


def test_the_api_conforms_to_its_description(api_app):
    app, token = api_app
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.definition.raw.get("operationId") in EXCLUDED:
            continue
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            def run(case) -> None:
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                run()
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # every operation is tried; all failures are reported together
                failures.append(f"{operation.method.upper()} {operation.path} ({mode}): {exc}")
    assert operations >= 15
    assert not failures, "\n\n".join(failures)
