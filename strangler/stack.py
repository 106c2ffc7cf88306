"""The stack file (``stack.yaml``): what ``strangler up`` prepares and runs.

One YAML mapping, validated on load; an error names the file, the entry and the field::

    env:            # defaults; a variable already set in the environment wins
      MONOLITH_PORT: "8100"
    setup:          # run in order, each to completion, before any process starts
      - name: migrate the monolith
        run: python -m monolith migrate --noinput
    processes:      # run side by side until Ctrl-C
      monolith:
        run: gunicorn monolith.wsgi --bind 127.0.0.1:${MONOLITH_PORT}
        port: ${MONOLITH_PORT}          # refused up front when another program holds it
        ready: http://127.0.0.1:${MONOLITH_PORT}/readyz
        env: {STRANGLER_SERVICE: monolith}
        restart: on-failure             # the default: a failed process is started again,
                                        # within a budget (strangler/stack_supervisor.py);
                                        # `never`: its stopping stops the stack
    urls:           # printed once every ``ready`` URL answers
      Storefront: http://127.0.0.1:${PROXY_PORT}/

``${NAME}`` in ``port``, ``ready`` and ``urls`` is replaced from the merged environment when
the file is loaded; ``run`` lines go to ``/bin/sh`` as they are, so the shell expands them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from strangler.yaml_files import first_error, read_mapping

__all__ = ["Process", "SetupStep", "Stack", "StackError", "load_stack"]

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")


class StackError(ValueError):
    """The stack file cannot be used; the message names the file, entry and field."""


class _SetupStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    run: str = Field(min_length=1)


class _Process(BaseModel):
    model_config = ConfigDict(extra="forbid")
    run: str = Field(min_length=1)
    port: str | None = None
    ready: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    restart: Literal["on-failure", "never"] = "on-failure"


class _Stack(BaseModel):
    model_config = ConfigDict(extra="forbid")
    env: dict[str, str] = Field(default_factory=dict)
    setup: list[_SetupStep] = Field(default_factory=list)
    processes: dict[str, _Process] = Field(min_length=1)
    urls: dict[str, str] = Field(default_factory=dict)

    @field_validator("processes")
    @classmethod
    def _names(cls, value: dict[str, _Process]) -> dict[str, _Process]:
        for name in value:
            if not _NAME.match(name):
                raise ValueError(
                    f"process name {name!r}: use lower-case letters, digits and '-', "
                    "starting with a letter, at most 31 characters"
                )
        return value


@dataclass(frozen=True)
class SetupStep:
    name: str
    run: str


@dataclass(frozen=True)
class Process:
    name: str
    run: str
    port: int | None
    ready: str | None
    env: Mapping[str, str]
    restart: bool = True
    """Start it again when it fails (``restart: on-failure``, the default)."""


@dataclass(frozen=True)
class Stack:
    path: Path
    env: Mapping[str, str]
    """The whole environment the stack runs in: ``os.environ`` over the file's defaults."""
    setup: tuple[SetupStep, ...]
    processes: tuple[Process, ...]
    urls: Mapping[str, str]


def load_stack(path: Path, *, environ: Mapping[str, str] | None = None) -> Stack:
    """Read and validate ``path``; raises :class:`StackError` saying what to fix."""
    data = read_mapping(
        path,
        error=StackError,
        what="the stack file",
        expected="a mapping with a 'processes' entry",
    )
    try:
        parsed = _Stack.model_validate(data)
    except ValidationError as exc:
        loc, message = first_error(exc)
        where = ".".join(str(part) for part in loc) or "(top level)"
        raise StackError(f"{path}: {where}: {message}") from exc
    env = {**parsed.env, **(os.environ if environ is None else environ)}
    processes = tuple(
        Process(
            name=name,
            run=spec.run,
            port=_port(_expand(spec.port, env, path, f"processes.{name}.port"), path, name),
            ready=_expand(spec.ready, env, path, f"processes.{name}.ready"),
            env=dict(spec.env),
            restart=spec.restart == "on-failure",
        )
        for name, spec in parsed.processes.items()
    )
    urls = {
        label: _expand(url, env, path, f"urls.{label}") or "" for label, url in parsed.urls.items()
    }
    return Stack(
        path=path,
        env=env,
        setup=tuple(SetupStep(name=step.name, run=step.run) for step in parsed.setup),
        processes=processes,
        urls=urls,
    )


def _expand(value: str | None, env: Mapping[str, str], path: Path, where: str) -> str | None:
    if value is None:
        return None
    try:
        return Template(value).substitute(env)
    except KeyError as exc:
        raise StackError(
            f"{path}: {where}: ${{{exc.args[0]}}} is not set; set it in the environment "
            "or give it a default under 'env'."
        ) from exc
    except ValueError as exc:
        raise StackError(f"{path}: {where}: {exc}") from exc


def _port(value: str | None, path: Path, name: str) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise StackError(f"{path}: processes.{name}.port: {value!r} is not a TCP port number.")
    return int(value)
