"""Header rules as an upstream sees them, from raw requests through the proxy."""

from __future__ import annotations

from tests.proxy.conftest import raw_exchange, table_for


async def test_no_header_with_an_underscore_reaches_an_upstream(
    start_upstream, start_proxy
) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith))

    answer = await raw_exchange(
        proxy.host,
        proxy.port,
        b"GET /x/internal/sync/status HTTP/1.1\r\nHost: shop\r\nSCRIPT_NAME: /x\r\n"
        b"PATH_INFO: /internal/sync/status\r\nX_Forwarded_For: 10.0.0.1\r\n"
        b"Accept: */*\r\nConnection: close\r\n\r\n",
    )

    assert answer.startswith(b"HTTP/1.1 200")
    (seen,) = monolith.seen
    assert seen["path"] == "/x/internal/sync/status"
    assert [name for name in seen["headers"] if "_" in name] == []
    assert seen["headers"]["Accept"] == "*/*"


async def test_headers_read_as_a_path_or_mount_point_never_reach_an_upstream(
    start_upstream, start_proxy
) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith))
    overrides = [b"Script-Name", b"Path-Info", b"X-Script-Name", b"X-Forwarded-Prefix",
                 b"X-Forwarded-Path", b"X-Original-URL", b"X-Rewrite-URL"]  # fmt: skip

    lines = b"".join(name + b": /internal/sync/status\r\n" for name in overrides)
    await raw_exchange(
        proxy.host,
        proxy.port,
        b"GET /products/ HTTP/1.1\r\nHost: shop\r\n" + lines + b"Connection: close\r\n\r\n",
    )

    (seen,) = monolith.seen
    assert [name for name in overrides if name.decode() in seen["headers"]] == []


async def test_a_client_naming_host_in_connection_does_not_remove_it(
    start_upstream, start_proxy
) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith))

    answer = await raw_exchange(
        proxy.host,
        proxy.port,
        b"POST /cart/ HTTP/1.1\r\nHost: shop.example\r\nContent-Length: 2\r\n"
        b"Connection: close, host, content-length, x-request-id, x-forwarded-for, "
        b"x-forwarded-host, x-strangler-identity, x-custom\r\nX-Custom: dropped\r\n\r\n{}",
    )

    assert answer.startswith(b"HTTP/1.1 200")
    (seen,) = monolith.seen
    headers = seen["headers"]
    assert headers["Host"] == "shop.example"
    assert headers["Content-Length"] == "2"
    assert seen["body"] == b"{}"
    assert headers["X-Forwarded-For"] == "127.0.0.1"
    assert headers["X-Forwarded-Host"] == "shop.example"
    assert len(headers["X-Request-ID"]) == 32
    assert "X-Custom" not in headers  # the rule itself still holds for other headers
