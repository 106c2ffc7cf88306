"""Carry the request id from the request that queued a task into the task's log lines."""

from __future__ import annotations

from typing import Any

from celery import signals

from strangler.servicekit.request_id import bind_request_id, current_request_id, unbind_request_id

__all__ = ["connect_request_id_signals"]

_HEADER = "request_id"
_tokens: dict[str, Any] = {}


def _stamp(headers: dict[str, Any] | None = None, **_: Any) -> None:
    if headers is not None and _HEADER not in headers:
        headers[_HEADER] = current_request_id()


def _bind(task_id: str, task: Any, **_: Any) -> None:
    _tokens[task_id] = bind_request_id(getattr(task.request, _HEADER, None))


def _unbind(task_id: str, **_: Any) -> None:
    token = _tokens.pop(task_id, None)
    if token is not None:
        unbind_request_id(token)


def connect_request_id_signals() -> None:
    """Connect once, from the project's Celery module."""
    signals.before_task_publish.connect(_stamp, weak=False)
    signals.task_prerun.connect(_bind, weak=False)
    signals.task_postrun.connect(_unbind, weak=False)
