"""Prometheus sources behind auth and TLS: a local HTTPS server (certificates made here with the
openssl CLI) that checks credentials, tenant headers and client certificates itself."""

from __future__ import annotations

import base64
import json
import shutil
import ssl
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from watch_servers import prometheus_handler

from kizashi.engine.sources import make_source
from kizashi.watch.config import parse_config
from kizashi.watch.sources import SourceError

NAMES = ["a", "b"]


def value(name: str, t: float) -> float:
    return float(round(t)) + (0.5 if name == "b" else 0.0)


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _issue(folder: Path, name: str, ext: str) -> None:
    """A key and a certificate for ``name`` signed by the test CA."""
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=folder)
    (folder / f"{name}.ext").write_text(
        ext + "\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n")
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext",
             cwd=folder)


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> Path:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl program: apt-get install -y openssl")
    folder = tmp_path_factory.mktemp("certs")
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj",
             "/CN=kizashi test CA", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)
    _issue(folder, "server", "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                             "extendedKeyUsage=serverAuth\nkeyUsage=digitalSignature")
    _issue(folder, "client", "extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature")
    # another CA, which signed nothing the server uses
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", "other.key", "-out", "other.pem", "-days", "2", "-subj",
             "/CN=other CA", "-addext", "basicConstraints=critical,CA:TRUE", cwd=folder)
    return folder


class AuthPrometheus:
    """A scripted Prometheus over HTTPS that answers 401 unless ``Authorization`` is ``expect``
    and 403 unless ``X-Scope-OrgID`` is ``tenant``; with ``client_ca`` it requires a client
    certificate signed by that CA. Every request's headers are recorded."""

    def __init__(self, certs: Path, expect: str | None, tenant: str | None = None,
                 client_ca: bool = False):
        self.expect, self.tenant = expect, tenant
        self.headers: list[dict[str, str]] = []
        answer = prometheus_handler(value, NAMES)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.headers.append({k.lower(): v for k, v in self.headers.items()})
                parsed = urllib.parse.urlsplit(self.path)
                if outer.expect is not None and self.headers.get("Authorization") != outer.expect:
                    status, body = 401, b'{"status":"error","error":"unauthorized"}'
                elif outer.tenant is not None and self.headers.get("X-Scope-OrgID") != outer.tenant:
                    status, body = 403, b'{"status":"error","error":"no org id"}'
                else:
                    status, body = answer("GET", parsed.path,
                                          dict(urllib.parse.parse_qsl(parsed.query)), b"")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certs / "server.pem", certs / "server.key")
        if client_ca:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(certs / "ca.pem")
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def source_from(block: str, url: str, tmp_path: Path):
    config = parse_config(f"""
listen: off
storage: "{tmp_path / 's.sqlite'}"
sources:
  prometheus:
    type: prometheus
    url: "{url}"
    retries: 2
    backoff: 1ms
{block}
watches: [{{name: w, query: up}}]
""", "w.yaml")
    return make_source(config.sources["prometheus"])


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def indent(text: str) -> str:
    return "\n".join("    " + line for line in text.strip().splitlines())


@pytest.fixture
def server(certs):
    servers = []

    def start(**kwargs) -> AuthPrometheus:
        servers.append(AuthPrometheus(certs, **kwargs))
        return servers[-1]

    yield start
    for item in servers:
        item.close()


def test_basic_auth_tenant_header_and_a_private_ca(certs, server, tmp_path):
    prom = server(expect=basic("kizashi", "pa:ss wörd"), tenant="team-a")
    secret = tmp_path / "password"
    secret.write_text("pa:ss wörd\n")
    source = source_from(indent(f"""
basic_auth: {{username: kizashi, password_file: "{secret}"}}
headers: {{X-Scope-OrgID: team-a}}
tls_config: {{ca_file: "{certs / 'ca.pem'}"}}
"""), prom.url, tmp_path)
    samples = source.range("up", 1000.0, 1004.0, 1.0)
    assert samples.labels == [{"instance": "a"}, {"instance": "b"}]
    assert samples.values.tolist() == [[t, t + 0.5] for t in range(1000, 1005)]
    sent = prom.headers[-1]
    assert sent["authorization"] == basic("kizashi", "pa:ss wörd")
    assert sent["x-scope-orgid"] == "team-a"          # (header names are case-insensitive)


def test_a_wrong_password_is_a_clear_error_and_not_retried(certs, server, tmp_path):
    prom = server(expect=basic("kizashi", "right"))
    source = source_from(indent(f"""
basic_auth: {{username: kizashi, password: wrong}}
tls_config: {{ca_file: "{certs / 'ca.pem'}"}}
"""), prom.url, tmp_path)
    with pytest.raises(SourceError) as error:
        source.instant("up", 1000.0)
    message = str(error.value)
    assert "HTTP 401" in message and "credentials were refused" in message
    assert "sources.prometheus.basic_auth" in message and "wrong" not in message
    assert len(prom.headers) == 1                       # refused credentials are not retried


def test_no_credentials_and_a_missing_tenant_say_so(certs, server, tmp_path):
    prom = server(expect=basic("u", "p"))
    source = source_from(indent(f'tls_config: {{ca_file: "{certs / "ca.pem"}"}}'), prom.url,
                         tmp_path)
    with pytest.raises(SourceError, match="no credentials were configured"):
        source.instant("up", 1000.0)
    prom = server(expect=None, tenant="team-a")
    source = source_from(indent(f'tls_config: {{ca_file: "{certs / "ca.pem"}"}}'), prom.url,
                         tmp_path)
    with pytest.raises(SourceError, match="HTTP 403.*forbidden"):
        source.instant("up", 1000.0)


def test_the_server_certificate_is_verified(certs, server, tmp_path):
    prom = server(expect=None)
    for block in ("", indent(f'tls_config: {{ca_file: "{certs / "other.pem"}"}}')):
        source = source_from(block, prom.url, tmp_path)
        with pytest.raises(SourceError) as error:
            source.instant("up", 1000.0)
        assert "TLS certificate not trusted" in str(error.value)
        assert "sources.prometheus.tls_config.ca_file" in str(error.value)
    skip = source_from(indent("tls_config: {insecure_skip_verify: true}"), prom.url, tmp_path)
    assert skip.instant("up", 1000.0).values.tolist() == [[1000.0, 1000.5]]


def test_a_bearer_token_file_is_read_at_every_request(certs, server, tmp_path):
    token = tmp_path / "token"
    token.write_text("first\n")
    prom = server(expect="Bearer first")
    source = source_from(indent(f"""
bearer_token_file: "{token}"
tls_config: {{ca_file: "{certs / 'ca.pem'}"}}
"""), prom.url, tmp_path)
    source.instant("up", 1000.0)
    token.write_text("second")                           # rotated: no restart needed
    prom.expect = "Bearer second"
    source.instant("up", 1001.0)
    assert [h["authorization"] for h in prom.headers] == ["Bearer first", "Bearer second"]


def test_a_client_certificate_is_presented_when_configured(certs, server, tmp_path):
    prom = server(expect="Bearer t", client_ca=True)
    without = source_from(indent(f"""
bearer_token: t
tls_config: {{ca_file: "{certs / 'ca.pem'}"}}
"""), prom.url, tmp_path)
    with pytest.raises(SourceError):
        without.instant("up", 1000.0)
    with_cert = source_from(indent(f"""
bearer_token: t
tls_config: {{ca_file: "{certs / 'ca.pem'}", cert_file: "{certs / 'client.pem'}",
              key_file: "{certs / 'client.key'}"}}
"""), prom.url, tmp_path)
    assert with_cert.instant("up", 1000.0).values.tolist() == [[1000.0, 1000.5]]


def test_a_watch_config_scores_series_from_an_authenticated_source(certs, server, tmp_path):
    from kizashi.watch.store import WatchStore
    from kizashi.watch.watcher import Watcher

    prom = server(expect=basic("k", "p"), tenant="t1")
    config = parse_config(f"""
interval: 1s
listen: off
initial_backfill: 30s
sources:
  prometheus:
    type: prometheus
    url: "{prom.url}"
    basic_auth: {{username: k, password: p}}
    headers: {{X-Scope-OrgID: t1}}
    tls_config: {{ca_file: "{certs / 'ca.pem'}"}}
watches:
  - {{name: w, query: up, detectors: [{{detector: threshold,
      params: {{window: 10, min_periods: 5}}}}]}}
""")
    now = float(int(time.time()))
    watcher = Watcher(config, WatchStore(":memory:"), clock=lambda: now)
    watcher.tick()
    health = watcher.snapshot()["health"]
    assert health["source_up"] == {"prometheus": True}, health["source_last_error"]
    points = watcher.store.points(1)["threshold"]
    assert np.array_equal(points["t"], now - 30 + np.arange(31))
    assert np.array_equal(points["value"], points["t"])        # value(a, t) = t


BAD = [
    ("basic_auth: {username: u, password: p}\n    bearer_token: t",
     "give basic_auth or a bearer token, not both"),
    ("basic_auth: {username: u}", None),  # no password: an empty one, as Prometheus allows
    ("basic_auth: {password: p}", "sources.prometheus.basic_auth.username is missing"),
    ("basic_auth: {username: u, password: p, password_file: /etc/hostname}",
     "basic_auth: give password or password_file, not both"),
    ("basic_auth: {username: u, pasword: p}", "basic_auth: unknown key(s) pasword"),
    ("basic_auth: {username: u, password_file: /nonexistent}",
     "sources.prometheus.basic_auth.password_file: /nonexistent is not a readable file"),
    ("bearer_token: ''", "sources.prometheus.bearer_token must be non-empty text"),
    ("bearer_token_file: /nonexistent", "bearer_token_file: /nonexistent is not a readable"),
    ("headers: {'bad header': x}", "headers: 'bad header' is not a valid HTTP header name"),
    ("headers: {Content-Type: x}", "headers.Content-Type is set by kizashi itself"),
    ("headers: {X-A: [1]}", "headers.X-A must be text"),
    ("headers: {Authorization: x}\n    bearer_token: t", "headers.Authorization cannot be"),
    ("tls_config: {ca_file: /nonexistent}", "tls_config.ca_file: /nonexistent is not a readable"),
    ("tls_config: {cert_file: /etc/hostname}", "cert_file and key_file go together"),
    ("tls_config: {insecure_skip_verify: yes please}", "insecure_skip_verify must be true or"),
    ("tls_config: {verify: false}", "tls_config: unknown key(s) verify"),
    ("tls_config: {ca_file: /etc/hostname}", "tls_config: cannot load the TLS files"),
]


@pytest.mark.parametrize("block, message", BAD)
def test_bad_auth_and_tls_options_are_one_line_errors_naming_the_key(block, message, tmp_path):
    text = f"""
listen: off
sources:
  prometheus:
    type: prometheus
    url: "https://127.0.0.1:9"
    {block}
watches: [{{name: w, query: up}}]
"""
    if message is None:
        assert parse_config(text, "w.yaml").sources["prometheus"].http is not None
        return
    with pytest.raises(ValueError) as error:
        parse_config(text, "w.yaml")
    assert message in str(error.value), str(error.value)
    assert str(error.value).startswith("w.yaml: sources.prometheus.")
    assert "\n" not in str(error.value)


def test_auth_keys_on_a_file_source_are_unknown_keys(tmp_path):
    with pytest.raises(ValueError, match=r"unknown key\(s\) sources.lab.bearer_token"):
        parse_config("""
sources: {lab: {type: csv, path: x.csv, bearer_token: t}}
watches: [{name: w}]
""", "w.yaml")


def test_secrets_do_not_appear_in_the_config_repr(tmp_path):
    config = parse_config("""
listen: off
sources: {p: {type: prometheus, url: "http://127.0.0.1:9", basic_auth: {username: u,
          password: hunter2}}}
watches: [{name: w, query: up}]
""")
    assert json.dumps(str(config)).count("hunter2") == 0


def test_a_certificate_for_another_host_names_the_url_not_the_ca(certs, server, tmp_path):
    prom = server(expect=None)
    # the certificate carries 127.0.0.1 and localhost: reached as "localhost", it is accepted
    ok = source_from(indent(f'tls_config: {{ca_file: "{certs / "ca.pem"}"}}'),
                     prom.url.replace("127.0.0.1", "localhost"), tmp_path)
    assert ok.instant("up", 1000.0).values.tolist() == [[1000.0, 1000.5]]
    # a name it does not carry (the verifier's message) points at the URL, not at the CA
    error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    error.verify_message = "Hostname mismatch, certificate is not valid for 'prom.internal'."
    from kizashi.watch.http_options import describe_url_error

    text = describe_url_error(error, "sources.p")
    assert "not valid for this host" in text and "sources.p.url" in text
    error.verify_message = "unable to get local issuer certificate"
    assert "set sources.p.tls_config.ca_file" in describe_url_error(error, "sources.p")
