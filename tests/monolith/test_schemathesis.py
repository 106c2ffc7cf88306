"""Schemathesis against the monolith's OpenAPI schema, as staff: no 500, no undocumented status,
no answer outside its schema, no input outside the schema accepted, no ignored credentials."""

from __future__ import annotations

import pytest

from tests.extracted.catalog.processes import fresh_database, gunicorn, manage, project_env
from tests.schemathesis_run import RUN_TIMEOUT_SECONDS, schemathesis_run

pytestmark = pytest.mark.e2e


@pytest.mark.timeout(RUN_TIMEOUT_SECONDS + 120)
def test_the_monolith_answers_as_its_schema_says(tmp_path) -> None:
    with fresh_database("schemathesis_monolith", tmp_path) as database_url:
        env = project_env(
            var_dir=tmp_path / "var", DJANGO_SETTINGS_MODULE="monolith.settings",
            DATABASE_URL=database_url, STRANGLER_SERVICE="monolith",
        )  # fmt: skip
        manage("monolith", "migrate", "--noinput", env=env)
        # Rows to find, so that generated ids and slugs sometimes name one; and its staff user.
        manage("monolith", "seed_demo", "--products", "20", env=env)
        token = manage("monolith", "drf_create_token", "staff", env=env).split()[2]
        with gunicorn("monolith.wsgi", env=env, log=tmp_path / "gunicorn.log", workers=2) as s:
            schemathesis_run(
                schema_url=f"{s.url}/api/schema/",
                headers={"Authorization": f"Token {token}"},
                cwd=tmp_path,
            )
