"""The edits ``strangler init`` plans, on the text of small projects: the file's own layout,
quotes and comments kept, and a hand edit wherever a change would be a guess."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from strangler.scaffold.init_items import Status
from strangler.scaffold.init_project import InitPlan, locate_project, plan_init

MANAGE_PY = """\
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"""
URLS = """\
from django.urls import path

urlpatterns = [
    path("", lambda request: None),
]
"""


def project(tmp_path: Path, settings: str, urls: str = URLS) -> Path:
    (tmp_path / "shop").mkdir()
    (tmp_path / "manage.py").write_text(MANAGE_PY)
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "settings.py").write_text(textwrap.dedent(settings))
    (tmp_path / "shop" / "urls.py").write_text(textwrap.dedent(urls))
    return tmp_path


def planned(root: Path) -> InitPlan:
    return plan_init(locate_project(root))


def after(plan: InitPlan, relative: str) -> str:
    return next(change.after for change in plan.changes if change.relative == relative)


def statuses(plan: InitPlan) -> dict[str, Status]:
    return {item.what.partition(":")[0]: item.status for item in plan.items}


def test_a_tuple_without_a_trailing_comma_gains_one_and_keeps_its_comments(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        """\
        INSTALLED_APPS = (
            "django.contrib.auth",  # users
            "django.contrib.contenttypes"  # what auth needs
        )
        MIDDLEWARE = []
        ROOT_URLCONF = "shop.urls"
        """,
    )

    settings = after(planned(root), "shop/settings.py")

    assert (
        'INSTALLED_APPS = (\n    "django.contrib.auth",  # users\n'
        '    "django.contrib.contenttypes",  # what auth needs\n'
        '    "strangler.sync",\n    "strangler.contrib.identity",\n)\n'
    ) in settings


def test_columns_count_characters_not_bytes(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        """\
        INSTALLED_APPS = [
            "café.apps.CaféConfig"
        ]
        MIDDLEWARE = []
        ROOT_URLCONF = "shop.urls"
        """,
    )

    settings = after(planned(root), "shop/settings.py")

    assert '    "café.apps.CaféConfig",\n    "strangler.sync",\n' in settings


def test_an_empty_or_one_line_list_is_a_hand_edit(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        """\
        INSTALLED_APPS = ["django.contrib.auth"]
        MIDDLEWARE = []
        ROOT_URLCONF = "shop.urls"
        """,
    )

    plan = planned(root)

    assert statuses(plan)["INSTALLED_APPS"] is Status.HAND
    assert statuses(plan)["MIDDLEWARE"] is Status.HAND
    assert plan.changes  # what can be written is planned, and written once the hands are done
    hand = next(item for item in plan.hand_edits if item.what.startswith("MIDDLEWARE"))
    assert hand.describe() == (
        "edit by hand: shop/settings.py:2: MIDDLEWARE: "
        "strangler.servicekit.request_id.request_id_middleware, "
        "strangler.sync.freshness.data_versions_middleware: MIDDLEWARE is not one list "
        'written one element a line; add "strangler.servicekit.request_id.request_id_middleware", '
        '"strangler.sync.freshness.data_versions_middleware" first in it'
    )


def test_urlpatterns_grown_later_are_still_written_first(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        """\
        INSTALLED_APPS = [
            "django.contrib.auth",
        ]
        MIDDLEWARE = [
            "django.middleware.common.CommonMiddleware",
        ]
        ROOT_URLCONF = "shop.urls"
        """,
        urls="""\
        from django.conf.urls.static import static
        from django.urls import path, re_path

        urlpatterns = [
            re_path(r"^.*$", lambda request: None),
        ]
        urlpatterns += static("/media/", document_root="media")
        """,
    )

    urls = after(planned(root), "shop/urls.py")

    assert "from django.urls import include, path, re_path\n" in urls
    assert urls.index('path("internal/sync/"') < urls.index("re_path(")
    assert 'urlpatterns += static("/media/", document_root="media")\n' in urls
    ast.parse(urls)


def test_urlpatterns_built_by_a_function_is_a_hand_edit(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        """\
        INSTALLED_APPS = [
            "django.contrib.auth",
        ]
        ROOT_URLCONF = "shop.urls"
        """,
        urls="""\
        from django.conf.urls.i18n import i18n_patterns
        from django.urls import path

        urlpatterns = i18n_patterns(path("", lambda request: None))
        """,
    )

    plan = planned(root)

    assert {item.status for item in plan.items if item.what.startswith("URL ")} == {Status.HAND}
    hand = next(item for item in plan.hand_edits if item.what == "URL healthz")
    assert hand.line == 4
    assert 'path("healthz", healthz, name="healthz")' in hand.how
    assert "import from django.urls import include" in hand.how


def test_existing_imports_are_not_repeated(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        """\
        \"\"\"Settings.\"\"\"

        import os
        from pathlib import Path

        INSTALLED_APPS = [
            "django.contrib.auth",
        ]
        MIDDLEWARE = [
            "django.middleware.common.CommonMiddleware",
        ]
        ROOT_URLCONF = "shop.urls"
        """,
    )

    settings = after(planned(root), "shop/settings.py")

    assert settings.count("import os\n") == 1
    assert settings.index("from strangler.servicekit.celery_wiring") > settings.index(
        "from pathlib import Path"
    )
    assert 'var_dir=Path(__file__).resolve().parent / "var" / "celery", queue="shop"' in settings
    ast.parse(settings)


def test_a_celery_module_of_the_teams_own_is_a_hand_edit(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        """\
        INSTALLED_APPS = [
            "django.contrib.auth",
        ]
        MIDDLEWARE = [
            "django.middleware.common.CommonMiddleware",
        ]
        ROOT_URLCONF = "shop.urls"
        """,
    )
    (root / "shop" / "celery.py").write_text(
        "from celery import Celery\n\napp = Celery('shop')\napp.config_from_object('x')\n"
    )

    plan = planned(root)

    hand = next(item for item in plan.hand_edits if item.relative == "shop/celery.py")
    assert hand.line == 3
    assert 'app = celery_app("shop", "shop.settings")' in hand.how
