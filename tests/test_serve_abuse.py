"""`tunewise serve` under abuse (issue #14, item 6), over real HTTP with a scripted backend.

A client that disconnects stops costing anything; a large body is refused with 413 before it is read;
an API key guards every endpoint but /health; a server reachable from other machines needs a key (or
--insecure); /v1/models names no local path; the key never reaches the output.

Every wait here is on a condition (an event the backend sets, a counter in /stats), never on time; the
timeouts are only upper bounds for a failure.

| what the client does                                          | answer                                  |
|---------------------------------------------------------------|-----------------------------------------|
| closes the connection while its request generates            | the batch's stop event is set; next request served |
| closes the connection while its request waits in the queue   | dropped: never generated (`cancelled` in /stats) |
| declares `Content-Length: 20 MB` (limit 1,000 bytes), sends nothing | 413 `request_too_large` at once; /health answers |
| streams a chunked body past the limit                         | 413 `request_too_large`                 |
| sends JSON nested 400 deep                                    | 400 "not valid JSON" (no RecursionError) |
| no `Authorization`, a wrong key, the key without `Bearer`     | 401 `invalid_api_key`, key never echoed |
| `GET /health` without a key                                   | 200                                     |
| `tunewise serve --host 0.0.0.0` without a key                 | exit 2, one line (or `--insecure`)      |
| `tunewise serve --api-key short`                              | exit 2, one line                        |
| `GET /v1/models` on a model + adapter under /home/someone/…   | ids only (`fake`), no path              |
"""

from __future__ import annotations

import json
import socket
import threading

import httpx
import pytest

from tests.scripted_server import BODY, KEY, LIMIT, ScriptedBackend, scripted_servers
from tests.test_cli_fuzz import cli


@pytest.fixture
def backend():
    return ScriptedBackend()


@pytest.fixture
def server(backend):
    yield from scripted_servers(backend)


def _hostport(base_url: str) -> tuple[str, int]:
    u = httpx.URL(base_url)
    return u.host, u.port


def _raw_request(base_url: str, head: str, body: bytes = b"") -> socket.socket:
    s = socket.create_connection(_hostport(base_url), timeout=LIMIT)
    s.sendall(head.encode() + b"\r\n" + body)
    return s


def _post_head(body_len: int | None, extra: str = "") -> str:
    length = f"Content-Length: {body_len}\r\n" if body_len is not None else "Transfer-Encoding: chunked\r\n"
    return (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{length}{extra}"
    )


def _read_response(s: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        ),
        None,
    )
    while length is not None and len(rest) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, rest


def _stats(base_url: str, **kw) -> dict:
    return httpx.get(base_url.removesuffix("/v1") + "/stats", timeout=LIMIT, **kw).json()


def _wait_until(check, what: str) -> None:
    """Poll a condition the server exposes (stats), bounded by LIMIT for a failure."""
    done = threading.Event()
    for _ in range(int(LIMIT / 0.01)):
        if check():
            return
        done.wait(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def _send_chat(base_url: str, content: str) -> socket.socket:
    body = json.dumps({**BODY, "messages": [{"role": "user", "content": content}]}).encode()
    return _raw_request(base_url, _post_head(len(body)), body)


# ---------------------------------------------------------------- a client that leaves
def test_a_generating_request_whose_client_left_is_stopped(server, backend):
    base = server(batch_size=1)
    s = _send_chat(base, "hold this one")
    assert backend.started.wait(LIMIT)
    s.close()  # the client goes away mid-generation
    assert backend.stopped.wait(LIMIT), "the batch was not asked to stop"
    r = httpx.post(f"{base}/chat/completions", json=BODY, timeout=LIMIT)  # the next request is served
    assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"] == "echo hi"
    assert _stats(base)["cancelled"] == 1


def test_a_queued_request_whose_client_left_is_dropped(server, backend):
    base = server(batch_size=1)
    first = _send_chat(base, "hold the first")
    assert backend.started.wait(LIMIT)
    second = _send_chat(base, "never generate me")
    _wait_until(lambda: _stats(base)["requests"] == 2, "the second request to be queued")
    second.close()
    _wait_until(lambda: _stats(base)["cancelled"] == 1, "the server to notice the second client left")
    backend.release.set()
    assert _read_response(first)[0] == 200
    first.close()
    r = httpx.post(f"{base}/chat/completions", json=BODY, timeout=LIMIT)  # queued behind the dropped one
    assert r.status_code == 200
    assert backend.generated == ["hold the first", "hi"]


# ---------------------------------------------------------------- body size
def test_a_body_over_the_limit_is_refused_with_413_before_it_is_read(server):
    base = server(max_body_bytes=1000)
    s = _raw_request(base, _post_head(20 * 2**20))  # declares 20 MB, sends none of it
    status, body = _read_response(s)
    s.close()
    assert status == 413
    err = json.loads(body)["error"]
    assert err["code"] == "request_too_large" and "1,000 bytes" in err["message"]
    assert httpx.get(base.removesuffix("/v1") + "/health", timeout=LIMIT).status_code == 200


def test_a_chunked_body_is_counted_while_it_streams(server):
    base = server(max_body_bytes=1000)
    s = _raw_request(base, _post_head(None), b"400\r\n" + b" " * 1024 + b"\r\n")  # 1024 bytes, not ended
    status, body = _read_response(s)
    s.close()
    assert status == 413 and json.loads(body)["error"]["code"] == "request_too_large"


def test_a_body_under_the_limit_and_deep_json_are_answered(server):
    base = server(max_body_bytes=1000)
    assert httpx.post(f"{base}/chat/completions", json=BODY, timeout=LIMIT).status_code == 200
    deep = b"[" * 400 + b"]" * 400
    r = httpx.post(f"{base}/chat/completions", content=deep, timeout=LIMIT)
    assert r.status_code == 400 and "not valid JSON" in r.json()["error"]["message"]


# ---------------------------------------------------------------- the API key
def test_an_api_key_guards_every_endpoint_but_health(server):
    base = server(api_key=KEY)
    root = base.removesuffix("/v1")
    for headers in ({}, {"Authorization": "Bearer wrong-key-123"}, {"Authorization": KEY}):
        for method, url in (
            ("GET", f"{base}/models"),
            ("GET", f"{root}/stats"),
            ("POST", f"{base}/chat/completions"),
        ):
            r = httpx.request(method, url, json=BODY, headers=headers, timeout=LIMIT)
            assert r.status_code == 401, (method, url, headers)
            err = r.json()["error"]
            assert err["code"] == "invalid_api_key" and err["type"] == "invalid_request_error"
            assert KEY not in r.text and "wrong-key-123" not in r.text
            assert r.headers["www-authenticate"] == "Bearer"
    assert httpx.get(f"{root}/health", timeout=LIMIT).status_code == 200
    ok = {"Authorization": f"Bearer {KEY}"}
    assert httpx.get(f"{base}/models", headers=ok, timeout=LIMIT).status_code == 200
    r = httpx.post(f"{base}/chat/completions", json=BODY, headers=ok, timeout=LIMIT)
    assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"] == "echo hi"


def test_the_openai_provider_sends_the_key_from_the_environment(server, monkeypatch):
    from tools.llm import get_provider

    base = server(api_key=KEY)
    monkeypatch.setenv("TUNEWISE_API_KEY", KEY)
    p = get_provider("chat", "compatible", None, base_url=base, use_cache=False)  # asks /models for the id
    assert p.model == "fake"
    assert p.complete([{"role": "user", "content": "hi"}], max_tokens=4).text == "echo hi"


def test_a_wrong_key_is_reported_as_a_wrong_key_not_as_unreachable(server, monkeypatch):
    from tools.errors import ProviderError
    from tools.llm import get_provider

    base = server(api_key=KEY)
    monkeypatch.setenv("TUNEWISE_API_KEY", "not-the-right-key")
    with pytest.raises(ProviderError) as e:
        get_provider("chat", "compatible", None, base_url=base, use_cache=False)
    line = e.value.one_line()
    assert "401" in line and "cannot reach" not in line and "TUNEWISE_API_KEY" in line


# ---------------------------------------------------------------- exposure
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_hosts_need_no_key(host):
    from tools.llm.server import check_exposure

    check_exposure(host, None)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10"])
def test_other_hosts_need_a_key_or_insecure(host):
    from tools.errors import UserError
    from tools.llm.server import check_exposure

    with pytest.raises(UserError) as e:
        check_exposure(host, None)
    assert "without an API key" in e.value.one_line() and "--insecure" in e.value.one_line()
    check_exposure(host, KEY)
    check_exposure(host, None, insecure=True)


def test_serve_on_all_interfaces_without_a_key_is_one_line_exit_2(monkeypatch):
    monkeypatch.delenv("TUNEWISE_SERVE_API_KEY", raising=False)
    code, out, err = cli("serve", "--host", "0.0.0.0", "--port", "0")
    assert code == 2, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "refusing to listen on 0.0.0.0" in lines[0] and " — fix: " in lines[0]


def test_a_short_key_is_refused():
    code, out, err = cli("serve", "--api-key", "short", "--port", "0")
    assert code == 2 and "the API key is shorter than 8 characters" in err


# ---------------------------------------------------------------- no paths, no key in the output
def test_models_reveal_no_local_path(server, backend):
    base = server(api_key=KEY)
    ok = {"Authorization": f"Bearer {KEY}"}
    for url in (f"{base}/models", f"{base}/models/fake"):
        text = httpx.get(url, headers=ok, timeout=LIMIT).text
        assert "/home/someone" not in text and "secret-project" not in text and "private-base" not in text
        assert "fake" in text


def test_the_default_model_id_names_no_path():
    from tools.llm.server import served_model_id

    mid = served_model_id("/home/someone/models/base", "/home/someone/p/.tunewise/runs/r1/train/v3/adapter")
    assert mid == "base+v3"


def test_the_banner_never_shows_the_key():
    from tools.llm.server import banner

    text = banner("m", "http://0.0.0.0:8000/v1", 8, api_key=True, host="0.0.0.0")
    assert KEY not in text and "Authorization: Bearer" in text
    assert "WARNING" in banner("m", "http://0.0.0.0:8000/v1", 8, api_key=False, host="0.0.0.0")
    assert "WARNING" not in banner("m", "http://127.0.0.1:8000/v1", 8, api_key=False, host="127.0.0.1")
