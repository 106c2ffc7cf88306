"""The monolith's Celery app as ``strangler init`` leaves it (``monolith/celery.py``):
``<project>/celery.py`` makes the app with ``celery_app``, and the package imports it at
start, so that Django's start-up configures it (Celery's own recipe for Django)."""

from __future__ import annotations

import ast

from strangler.scaffold.init_items import Item, Status
from strangler.scaffold.init_source import Edit, SourceFile

__all__ = ["celery_items", "celery_module_text"]


def celery_module_text(project: str, settings_module: str) -> str:
    return (
        f'"""The {project} Celery app; its configuration comes from Django settings '
        '(``CELERY_*``)."""\n'
        "\n"
        "from strangler.servicekit.celery_wiring import celery_app\n"
        "\n"
        f'app = celery_app("{project}", "{settings_module}")\n'
    )


def celery_items(
    module: SourceFile,
    package: SourceFile,
    *,
    project: str,
    package_name: str,
    settings_module: str,
) -> list[Item]:
    """The ``celery.py`` module and the package's import of its app."""
    return [
        _module_item(module, project=project, settings_module=settings_module),
        _package_item(package, package_name=package_name),
    ]


def _module_item(module: SourceFile, *, project: str, settings_module: str) -> Item:
    what = f'Celery app celery_app("{project}", "{settings_module}")'
    if not module.exists:
        text = celery_module_text(project, settings_module)
        return Item(
            what=what,
            relative=module.relative,
            status=Status.ADD,
            edits=(Edit((1, 0), (1, 0), text),),
        )
    for call in module.calls("celery_app"):
        arguments = [a.value for a in call.args if isinstance(a, ast.Constant)]
        if arguments == [project, settings_module]:
            return Item(what=what, relative=module.relative, status=Status.PRESENT)
    app = module.assignments("app")
    return Item(
        what=what,
        relative=module.relative,
        status=Status.HAND,
        line=app[0].lineno if app else None,
        how=(
            "make the module's app the toolkit's (it reads the CELERY_* settings, finds the "
            "tasks and carries request ids): "
            "`from strangler.servicekit.celery_wiring import celery_app` and "
            f'`app = celery_app("{project}", "{settings_module}")` instead of the app made here'
        ),
    )


def _package_item(package: SourceFile, *, package_name: str) -> Item:
    what = f"Celery app imported by the {package_name} package"
    imports_app = any(
        isinstance(node, ast.ImportFrom)
        and node.module in ("celery", f"{package_name}.celery")
        and (node.level == 1 if node.module == "celery" else node.level == 0)
        for node in ast.walk(package.tree)
    )
    if imports_app:
        return Item(what=what, relative=package.relative, status=Status.PRESENT)
    lines = [
        "# Django's start-up imports the Celery app, so tasks are bound to it (Celery's recipe).",
        "from .celery import app as celery_app",
    ]
    if not package.assignments("__all__"):
        lines += ["", '__all__ = ["celery_app"]']
    end = len(package.lines) + 1
    separator = "\n" if package.text.strip() else ""
    text = separator + "".join(f"{line}\n" for line in lines)
    return Item(
        what=what,
        relative=package.relative,
        status=Status.ADD,
        edits=(Edit((end, 0), (end, 0), text),),
    )
