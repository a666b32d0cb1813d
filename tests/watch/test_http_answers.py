"""The daemon's HTTP pieces: transport errors, refused redirects, bodies read within limits."""

from __future__ import annotations

import http.client
import http.server
import io
import threading
import urllib.error
import urllib.request

import pytest

from kizashi.watch.http_answers import (
    TRANSPORT_ERRORS,
    AnswerTooLarge,
    AnswerTooSlow,
    RefuseRedirect,
    read_within,
)


class _Trickle:
    """A body that arrives in pieces of ``size`` bytes, each advancing a fake clock."""

    def __init__(self, body: bytes, size: int, clock: list[float], per_read: float):
        self.buffer, self.size, self.clock, self.per_read = io.BytesIO(body), size, clock, per_read

    def read(self, n: int) -> bytes:
        self.clock[0] += self.per_read
        return self.buffer.read(min(n, self.size))


@pytest.mark.parametrize("error", [http.client.IncompleteRead(b"x"), http.client.BadStatusLine("?"),
                                   http.client.LineTooLong("header"), ConnectionResetError(),
                                   TimeoutError()])
def test_broken_answers_are_transport_errors(error: Exception) -> None:
    assert isinstance(error, TRANSPORT_ERRORS)


@pytest.mark.parametrize("size", [1, 7, 65536])
def test_a_body_is_read_whole_in_any_pieces(size: int) -> None:
    body = bytes(range(256)) * 40
    clock = [0.0]
    assert read_within(_Trickle(body, size, clock, 0.0), len(body), 1.0,
                       clock=lambda: clock[0]) == body


def test_a_body_past_its_size_is_refused() -> None:
    clock = [0.0]
    with pytest.raises(AnswerTooLarge):
        read_within(_Trickle(b"a" * 101, 10, clock, 0.0), 100, 1.0, clock=lambda: clock[0])


def test_a_trickled_body_is_cut_at_the_deadline() -> None:
    # each piece comes within any per-read timeout, but 50 pieces take 5 s in all
    clock = [0.0]
    with pytest.raises(AnswerTooSlow):
        read_within(_Trickle(b"b" * 50, 1, clock, 0.1), 1000, 2.0, clock=lambda: clock[0])


class _Redirects(http.server.BaseHTTPRequestHandler):
    """Answers every POST with the status in its path and a Location; GETs are counted."""

    gets: list[str] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(int(self.path.strip("/")))
        self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        type(self).gets.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def redirecting_server():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Redirects)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_a_redirected_post_is_an_error_not_a_get(redirecting_server: str, code: int) -> None:
    _Redirects.gets.clear()
    opener = urllib.request.build_opener(RefuseRedirect())
    request = urllib.request.Request(f"{redirecting_server}/{code}", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as raised:
        opener.open(request, timeout=5)
    assert raised.value.code == code
    assert _Redirects.gets == []  # the plain opener would have followed with a GET


def test_the_plain_opener_would_have_followed_with_a_get(redirecting_server: str) -> None:
    # the reason for the handler: without it the 302's GET answers 200
    _Redirects.gets.clear()
    request = urllib.request.Request(f"{redirecting_server}/302", data=b"{}", method="POST")
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert answer.status == 200
    assert _Redirects.gets == ["/elsewhere"]
