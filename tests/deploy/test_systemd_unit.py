"""deploy/systemd/kizashi-watch.service: hardened, state under StateDirectory, and accepted
by systemd itself (``systemd-analyze verify`` and its offline security rating)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "systemd" / "kizashi-watch.service"


def unit_entries(text: str) -> list[tuple[str, str, str]]:
    """(section, key, value) of every assignment, in order (keys may repeat in units)."""
    entries, section = [], ""
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        entries.append((section, key.strip(), value.strip()))
    return entries


@pytest.fixture(scope="module")
def service() -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for section, key, value in unit_entries(UNIT.read_text()):
        if section == "Service":
            values.setdefault(key, []).append(value)
    return values


def test_unit_is_sandboxed(service):
    expected = {"DynamicUser": "yes", "NoNewPrivileges": "yes", "ProtectSystem": "strict",
                "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes",
                "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes",
                "ProtectControlGroups": "yes", "RestrictSUIDSGID": "yes",
                "CapabilityBoundingSet": "", "StateDirectory": "kizashi"}
    assert {key: service.get(key, [None])[-1] for key in expected} == expected
    families = set(service["RestrictAddressFamilies"][-1].split())
    assert families <= {"AF_INET", "AF_INET6", "AF_UNIX"}


def test_state_file_is_in_the_state_directory_and_the_command_parses(service):
    from kizashi.cli.watch import watch

    command = shlex.split(service["ExecStart"][-1])
    assert Path(command[0]).name == "kizashi" and command[1] == "watch"
    context = watch.make_context("watch", command[2:])
    # ProtectSystem=strict leaves only the state directory (%S/NAME) writable: the state
    # file and the working directory (where a relative 'storage' would go) must be there
    state_dir = "%S/" + service["StateDirectory"][-1]
    assert Path(context.params["state_path"]).parent == Path(state_dir)
    assert service["WorkingDirectory"][-1] == state_dir


def systemd_analyze(*args: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("needs systemd-analyze: apt-get install -y systemd")
    return subprocess.run(["systemd-analyze", *args], capture_output=True, text=True,
                          timeout=60)


@pytest.fixture()
def installed_unit(tmp_path) -> Path:
    """The unit with ExecStart pointing at this environment's kizashi (verify checks that
    the program exists and is executable)."""
    kizashi = Path(sys.executable).with_name("kizashi")
    if not kizashi.exists():
        pytest.skip(f"no kizashi script beside {sys.executable}: pip install -e .")
    text = UNIT.read_text().replace("/opt/kizashi/bin/kizashi", str(kizashi))
    path = tmp_path / UNIT.name
    path.write_text(text)
    return path


@pytest.mark.integration
def test_systemd_analyze_verify_is_silent(installed_unit):
    # verify exits 0 even for unknown keys or bad values; it says so on stderr
    result = systemd_analyze("verify", str(installed_unit))
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "" and result.stdout.strip() == ""


@pytest.mark.integration
def test_systemd_analyze_verify_catches_a_broken_copy(installed_unit):
    """The check above can fail: a misspelt key and a bad value are reported."""
    text = installed_unit.read_text().replace("ProtectSystem=strict", "ProtectSystem=stricter")
    installed_unit.write_text(text.replace("NoNewPrivileges=yes", "NoNewPrivilege=yes"))
    result = systemd_analyze("verify", str(installed_unit))
    assert "stricter" in result.stderr and "NoNewPrivilege" in result.stderr


@pytest.mark.integration
def test_offline_security_rating_is_ok(installed_unit):
    result = systemd_analyze("security", "--offline=true", "--no-pager", str(installed_unit))
    if "--offline" in result.stderr and "unrecognized" in result.stderr:
        pytest.skip("systemd-analyze security --offline needs systemd >= 250")
    match = re.search(r"Overall exposure level for \S+: ([0-9.]+) (\w+)", result.stdout)
    assert match, result.stdout[-2000:] + result.stderr
    # systemd's own scale: 0 (fully sandboxed) … 10 (UNSAFE); OK and SAFE are its best words
    assert match.group(2) in ("OK", "SAFE") and float(match.group(1)) <= 2.0
