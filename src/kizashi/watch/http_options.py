"""How the daemon talks to an HTTP endpoint behind auth or TLS (a source, a remote_write receiver).

The keys follow Prometheus' own ``http_config`` names, so an operator can copy
them from ``prometheus.yml``:

.. code-block:: yaml

    basic_auth: {username: kizashi, password_file: /run/secrets/prom-password}
    bearer_token_file: /var/run/secrets/kubernetes.io/serviceaccount/token  # or bearer_token
    tls_config: {ca_file: /etc/ssl/ca.pem, cert_file: client.pem, key_file: client.key,
                 insecure_skip_verify: false}
    headers: {X-Scope-OrgID: team-a}       # e.g. the tenant of Mimir, Cortex, Loki

Files (``password_file``, ``bearer_token_file``) are read at every request, so a
rotated secret is picked up without a restart; they, and the TLS files, must
exist when the config is loaded. ``basic_auth`` and a bearer token cannot be
combined, nor either with an ``Authorization`` header.

Examples
--------
>>> options = HttpOptions(basic_auth=("kizashi", "s3cret", None), headers={"X-Scope-OrgID": "a"})
>>> options.request_headers()
{'X-Scope-OrgID': 'a', 'Authorization': 'Basic a2l6YXNoaTpzM2NyZXQ='}
>>> HttpOptions().ssl_context() is None
True
"""

from __future__ import annotations

import base64
import os
import re
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kizashi.yaml_errors import bounded_repr as _r

__all__ = ["HttpOptions", "describe_http_error", "describe_url_error", "parse_http_options"]

#: the keys :func:`parse_http_options` reads from a mapping
HTTP_KEYS = ("basic_auth", "bearer_token", "bearer_token_file", "tls_config", "headers")
#: HTTP header names (RFC 9110 tokens)
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
#: headers the daemon sets itself
_RESERVED_HEADERS = {"content-type", "content-length", "content-encoding", "host",
                     "user-agent", "x-prometheus-remote-write-version", "accept"}


@dataclass(frozen=True)
class HttpOptions:
    """Auth, TLS and extra headers of one HTTP endpoint.

    Parameters
    ----------
    basic_auth : tuple or None
        ``(username, password, password_file)``; the file, when given, wins.
    bearer_token, bearer_token_file : str or None
        ``Authorization: Bearer …`` (the file is read at every request).
    ca_file, cert_file, key_file : str or None
        The CA bundle that verifies the server; a client certificate and its key.
    insecure_skip_verify : bool
        Do not verify the server's certificate (testing only).
    headers : dict
        Sent with every request.

    Examples
    --------
    >>> options = HttpOptions(bearer_token="t0k3n", insecure_skip_verify=True)
    >>> options.request_headers(), options.ssl_context().verify_mode.name
    ({'Authorization': 'Bearer t0k3n'}, 'CERT_NONE')
    >>> "t0k3n" in repr(options)
    False
    """

    #: secrets stay out of ``repr`` (a config printed in a log)
    basic_auth: tuple[str, str | None, str | None] | None = field(default=None, repr=False)
    bearer_token: str | None = field(default=None, repr=False)
    bearer_token_file: str | None = None
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    insecure_skip_verify: bool = False
    headers: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def uses_tls_options(self) -> bool:
        return bool(self.ca_file or self.cert_file or self.insecure_skip_verify)

    def request_headers(self) -> dict[str, str]:
        """The headers of a request: the extra ones and ``Authorization`` (files read now)."""
        out = dict(self.headers)
        if self.basic_auth is not None:
            user, password, password_file = self.basic_auth
            if password_file:
                password = _read_secret(password_file, "basic_auth.password_file")
            token = base64.b64encode(f"{user}:{password or ''}".encode()).decode()
            out["Authorization"] = f"Basic {token}"
        elif self.bearer_token_file:
            out["Authorization"] = "Bearer " + _read_secret(self.bearer_token_file,
                                                            "bearer_token_file")
        elif self.bearer_token:
            out["Authorization"] = f"Bearer {self.bearer_token}"
        return out

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context for https URLs (None: Python's default verification)."""
        if not self.uses_tls_options:
            return None
        context = ssl.create_default_context(cafile=self.ca_file)
        if self.insecure_skip_verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.cert_file:
            context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def handlers(self) -> list[Any]:
        """urllib handlers: TLS with :meth:`ssl_context`."""
        import urllib.request

        context = self.ssl_context()
        return [] if context is None else [urllib.request.HTTPSHandler(context=context)]

    def opener(self) -> Any:
        """A ``urllib`` opener that applies the TLS options (headers: :meth:`request_headers`)."""
        import urllib.request

        return urllib.request.build_opener(*self.handlers())


def parse_http_options(reader: Any, kind: str) -> HttpOptions | None:
    """Read :data:`HTTP_KEYS` of a config mapping (a ``config._Reader``); None when absent.

    ``kind`` names the endpoint in messages ("source", "remote_write receiver").
    Every error is a one-line :class:`ValueError` naming the file and key.
    """
    at = f"{reader.where}: {reader.prefix}"
    raw = {key: reader.get(key, None) for key in HTTP_KEYS}
    if all(v is None for v in raw.values()):
        return None
    headers = _headers(raw["headers"], at)
    basic = None
    if raw["basic_auth"] is not None:
        body = raw["basic_auth"]
        if not isinstance(body, dict):
            raise ValueError(f"{at}basic_auth must be a mapping {{username, password or "
                             f"password_file}}, got {_r(body)}")
        unknown = sorted(set(map(str, body)) - {"username", "password", "password_file"})
        if unknown:
            raise ValueError(f"{at}basic_auth: unknown key(s) {', '.join(unknown)}; known: "
                             "username, password, password_file")
        user = body.get("username")
        if not isinstance(user, str) or not user:
            raise ValueError(f"{at}basic_auth.username is missing or not text")
        if ":" in user:
            raise ValueError(f"{at}basic_auth.username must not contain ':'")
        password, password_file = body.get("password"), body.get("password_file")
        if password is not None and password_file is not None:
            raise ValueError(f"{at}basic_auth: give password or password_file, not both")
        if password is not None and not isinstance(password, str):
            raise ValueError(f"{at}basic_auth.password must be text (quote it)")
        basic = (user, password, _file(password_file, f"{at}basic_auth.password_file"))
    token, token_file = raw["bearer_token"], raw["bearer_token_file"]
    if token is not None and (not isinstance(token, str) or not token.strip()):
        raise ValueError(f"{at}bearer_token must be non-empty text")
    if token is not None and token_file is not None:
        raise ValueError(f"{at}: give bearer_token or bearer_token_file, not both")
    token_file = _file(token_file, f"{at}bearer_token_file")
    if basic is not None and (token or token_file):
        raise ValueError(f"{at}: give basic_auth or a bearer token, not both")
    if (basic is not None or token or token_file) and any(
            k.lower() == "authorization" for k in headers):
        raise ValueError(f"{at}headers.Authorization cannot be combined with basic_auth or a "
                         "bearer token")
    tls = _tls(raw["tls_config"], at)
    return HttpOptions(basic_auth=basic, bearer_token=token, bearer_token_file=token_file,
                       headers=headers, **tls)


def describe_http_error(code: int, options: HttpOptions | None, key: str) -> str:
    """A hint for an HTTP status that means the credentials are wrong (else "")."""
    if code == 401:
        given = "no credentials were configured" if options is None or (
            options.basic_auth is None and not options.bearer_token
            and not options.bearer_token_file) else "the credentials were refused"
        return f" (unauthorized: {given}; check {key}.basic_auth / bearer_token)"
    if code == 403:
        return f" (forbidden: the credentials or tenant header lack access; check {key})"
    return ""


def describe_url_error(reason: Any, key: str) -> str:
    """A clearer text for TLS failures (certificate not trusted, wrong name, client cert)."""
    if isinstance(reason, ssl.SSLCertVerificationError):
        message = str(getattr(reason, "verify_message", "") or reason)
        if "hostname" in message.lower() or "ip address mismatch" in message.lower():
            return (f"TLS certificate is not valid for this host ({message}); use a name the "
                    f"certificate carries in {key}.url")
        return (f"TLS certificate not trusted ({message}); set {key}.tls_config.ca_file to "
                "the CA that signed it")
    if isinstance(reason, ssl.SSLError):
        return f"TLS error ({reason}); check {key}.tls_config"
    return str(reason)


def _headers(raw: Any, at: str) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError(f"{at}headers must be a mapping of header name → value, got {_r(raw)}")
    out = {}
    for name, value in raw.items():
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            raise ValueError(f"{at}headers: {_r(name)} is not a valid HTTP header name")
        if name.lower() in _RESERVED_HEADERS:
            raise ValueError(f"{at}headers.{name} is set by kizashi itself; remove it")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ValueError(f"{at}headers.{name} must be text, got {_r(value)}")
        text = str(value)
        if "\n" in text or "\r" in text:
            raise ValueError(f"{at}headers.{name} must be one line")
        out[name] = text
    return out


def _tls(raw: Any, at: str) -> dict[str, Any]:
    if raw is None:
        return {}
    keys = {"ca_file", "cert_file", "key_file", "insecure_skip_verify"}
    if not isinstance(raw, dict):
        raise ValueError(f"{at}tls_config must be a mapping ({', '.join(sorted(keys))})")
    unknown = sorted(set(map(str, raw)) - keys)
    if unknown:
        raise ValueError(f"{at}tls_config: unknown key(s) {', '.join(unknown)}; known: "
                         f"{', '.join(sorted(keys))}")
    skip = raw.get("insecure_skip_verify", False)
    if not isinstance(skip, bool):
        raise ValueError(f"{at}tls_config.insecure_skip_verify must be true or false")
    cert, key = raw.get("cert_file"), raw.get("key_file")
    if (cert is None) != (key is None):
        raise ValueError(f"{at}tls_config: cert_file and key_file go together (a client "
                         "certificate and its private key)")
    out = {"ca_file": _file(raw.get("ca_file"), f"{at}tls_config.ca_file"),
           "cert_file": _file(cert, f"{at}tls_config.cert_file"),
           "key_file": _file(key, f"{at}tls_config.key_file"),
           "insecure_skip_verify": skip}
    try:  # load them once now, so a wrong file is an error of the config, not of a tick
        HttpOptions(**out).ssl_context()
    except (ssl.SSLError, OSError, ValueError) as error:
        raise ValueError(f"{at}tls_config: cannot load the TLS files: {error}") from None
    return out


def _file(value: Any, key: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} must be a file path")
    path = Path(value).expanduser()
    if not path.is_file() or not os.access(path, os.R_OK):
        raise ValueError(f"{key}: {value} is not a readable file")
    return str(path)


def _read_secret(path: str, key: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as error:
        raise OSError(f"cannot read {key} {path}: {error.strerror or error}") from None
