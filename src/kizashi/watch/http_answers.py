"""Odd HTTP answers the daemon's clients must survive: the pieces they share.

* :data:`TRANSPORT_ERRORS` — what ``urllib`` raises for a broken answer that is
  not an :class:`OSError`: ``http.client`` raises ``IncompleteRead`` (a body cut
  short of its ``Content-Length``), ``BadStatusLine`` (the peer does not speak
  HTTP), ``LineTooLong`` … as :class:`http.client.HTTPException`.
* :class:`RefuseRedirect` — an opener handler for POSTs: ``urllib`` turns a
  POST answered 301/302/303 into a *GET without the body* to the new address,
  and the GET's 200 would count an alert as delivered that never was. With
  this handler a redirect is an :class:`urllib.error.HTTPError` of its 3xx
  code, a failure the sender retries.
* :func:`read_within` — a body read in pieces as they arrive, refused once it
  exceeds a size or a deadline: the socket timeout bounds each wait, not an
  answer trickled byte by byte.

>>> import http.client
>>> issubclass(http.client.IncompleteRead, TRANSPORT_ERRORS)
True
>>> import io
>>> read_within(io.BytesIO(b"abc"), max_bytes=10, deadline=float("inf"))
b'abc'
"""

from __future__ import annotations

import http.client
import time
import urllib.request
from typing import Any

__all__ = [
    "TRANSPORT_ERRORS",
    "AnswerTooLarge",
    "AnswerTooSlow",
    "RefuseRedirect",
    "read_within",
]

#: Raised by ``urllib`` for a broken answer, besides ``OSError`` (which it also raises).
TRANSPORT_ERRORS = (http.client.HTTPException, OSError)


class AnswerTooLarge(ValueError):
    """The body is larger than allowed."""


class AnswerTooSlow(TimeoutError):
    """The body did not arrive in full before the deadline."""


class RefuseRedirect(urllib.request.HTTPRedirectHandler):
    """Never follow a redirect: the 3xx answer is raised as an ``HTTPError``.

    >>> opener = urllib.request.build_opener(RefuseRedirect())
    >>> any(isinstance(h, RefuseRedirect) for h in opener.handlers)
    True
    """

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> None:
        return None


def read_within(response: Any, max_bytes: int, deadline: float,
                clock: Any = time.monotonic) -> bytes:
    """The whole body of ``response``; :class:`AnswerTooLarge` past ``max_bytes``,
    :class:`AnswerTooSlow` when ``clock()`` passes ``deadline`` before its end."""
    read = getattr(response, "read1", None) or response.read
    chunks, total = [], 0
    while True:
        chunk = read(65536)
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > max_bytes:
            raise AnswerTooLarge(total)
        if clock() > deadline:
            raise AnswerTooSlow(f"the answer took longer than the timeout "
                                f"({total} bytes had come)")
        chunks.append(chunk)
