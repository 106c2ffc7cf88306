"""Schemathesis against the catalog service's OpenAPI schema, as the proxy's staff identity: no
500, no undocumented status, no answer outside its schema, no input outside it accepted."""

from __future__ import annotations

import json
import time

import pytest

from strangler.identity import Identity, sign_identity
from tests.extracted.catalog.contract import fixture
from tests.extracted.catalog.processes import fresh_database, gunicorn, manage, project_env
from tests.schemathesis_run import RUN_TIMEOUT_SECONDS, schemathesis_run

pytestmark = pytest.mark.e2e

SECRET = "schemathesis-identity-secret"
STAFF = Identity(user_id="1", username="stella", is_staff=True)


@pytest.mark.timeout(RUN_TIMEOUT_SECONDS + 120)
def test_the_catalog_answers_as_its_schema_says(tmp_path) -> None:
    with fresh_database("schemathesis_catalog", tmp_path) as database_url:
        env = project_env(
            var_dir=tmp_path / "var", DJANGO_SETTINGS_MODULE="extracted.catalog.settings",
            CATALOG_DATABASE_URL=database_url, STRANGLER_SERVICE="catalog",
            STRANGLER_IDENTITY_SECRET=SECRET,
        )  # fmt: skip
        data = tmp_path / "catalog.json"
        data.write_text(json.dumps(fixture(stock_model="catalog.stocklevel")))
        manage("extracted.catalog", "migrate", "--noinput", env=env)
        manage("extracted.catalog", "loaddata", str(data), env=env)
        # Signed as the proxy would, valid for the whole run instead of the proxy's minute.
        identity = sign_identity(
            STAFF, secret=SECRET, now=time.time(), ttl=RUN_TIMEOUT_SECONDS + 60
        )
        log = tmp_path / "gunicorn.log"
        with gunicorn("extracted.catalog.wsgi", env=env, log=log, workers=2) as s:
            schemathesis_run(
                schema_url=f"{s.url}/api/schema/",
                headers={"X-Strangler-Identity": identity},
                cwd=tmp_path,
            )
