"""The Dockerfile, read with a real parser (dockerfile-parse): multi-stage, non-root, CPU
torch pinned as the test setup pins it, and an entrypoint whose default arguments the real
``kizashi watch`` accepts. No image is built here: these machines run no Docker daemon and
cannot reach a registry for the base image (docs/deploy.md says how to build one)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

dockerfile_parse = pytest.importorskip("dockerfile_parse", reason="pip install dockerfile-parse")

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def instructions() -> list[dict]:
    parser = dockerfile_parse.DockerfileParser(path=str(ROOT / "Dockerfile"))
    return parser.structure


def stages(instructions: list[dict]) -> list[list[dict]]:
    """Instructions grouped by stage (each group starts with its FROM)."""
    groups: list[list[dict]] = []
    for item in instructions:
        if item["instruction"] == "FROM":
            groups.append([])
        if groups:
            groups[-1].append(item)
    return groups


def exec_form(item: dict) -> list[str]:
    value = json.loads(item["value"])
    assert isinstance(value, list), f"{item['instruction']} must use the exec (JSON) form"
    return value


def only(stage: list[dict], instruction: str) -> dict:
    found = [i for i in stage if i["instruction"] == instruction]
    assert len(found) == 1, f"expected one {instruction}, found {len(found)}"
    return found[0]


def test_multi_stage_build_copies_only_the_environment(instructions):
    groups = stages(instructions)
    assert len(groups) >= 2
    names = [g[0]["value"].split()[-1] for g in groups[:-1] if " AS " in g[0]["value"].upper()]
    runtime = groups[-1]
    copies = [i["value"] for i in runtime if i["instruction"] == "COPY"]
    from_build = [c for c in copies if c.startswith("--from=")]
    assert from_build and all(c.split()[0].removeprefix("--from=") in names for c in from_build)
    # the final image installs nothing with pip: the build stage did
    assert not any("pip install" in i["value"] for i in runtime if i["instruction"] == "RUN")


def test_torch_is_the_pinned_cpu_build_by_default(instructions):
    args = {}
    for item in instructions:
        if item["instruction"] == "ARG" and "=" in item["value"]:
            key, _, default = item["value"].partition("=")
            args[key] = default
    setup = (ROOT / "scripts" / "setup-tests.sh").read_text()
    pinned = re.search(r'"torch==([0-9.]+)"', setup).group(1)
    assert args["TORCH_VERSION"] == pinned
    assert args["TORCH_VARIANT"] == "cpu"
    torch_runs = [i["value"] for i in instructions
                  if i["instruction"] == "RUN" and "torch==" in i["value"]]
    assert len(torch_runs) == 1
    assert "${TORCH_VERSION}" in torch_runs[0] and "--index-url" in torch_runs[0]
    assert "${TORCH_VARIANT}" in args["TORCH_INDEX"]
    # torch comes before the project, so pip never resolves an unpinned (CUDA) torch
    runs = [i["value"] for i in instructions if i["instruction"] == "RUN"]
    project = next(k for k, r in enumerate(runs) if re.search(r"pip install \S*\.\[", r))
    assert runs.index(torch_runs[0]) < project and "dl" in runs[project]


def test_runtime_runs_as_an_unprivileged_user(instructions):
    runtime = stages(instructions)[-1]
    user = only(runtime, "USER")["value"].split(":")[0]
    assert user not in ("root", "0")
    created = " ".join(i["value"] for i in runtime if i["instruction"] == "RUN")
    assert re.search(rf"useradd\b.*--uid {user}\b", created) or f"useradd {user}" in created
    user_at = runtime.index(only(runtime, "USER"))
    assert all(i["instruction"] != "RUN" for i in runtime[user_at:]), "RUN after USER"


def test_entrypoint_runs_watch_with_state_on_the_volume_and_the_port_exposed(instructions):
    runtime = stages(instructions)[-1]
    assert exec_form(only(runtime, "ENTRYPOINT")) == ["kizashi", "watch"]
    cmd = exec_form(only(runtime, "CMD"))
    options = dict(zip(cmd[1::2], cmd[2::2], strict=True))
    volumes = exec_form(only(runtime, "VOLUME"))
    state = Path(options["--state"])
    assert any(state.is_relative_to(v) for v in volumes)
    workdir = only(runtime, "WORKDIR")["value"]
    assert workdir in volumes  # a relative 'storage' of a user's config lands there too
    host, _, port = options["--listen"].rpartition(":")
    assert host == "0.0.0.0"  # loopback inside a container cannot be reached from outside
    assert only(runtime, "EXPOSE")["value"].split("/")[0] == port
    health = json.loads(only(runtime, "HEALTHCHECK")["value"].split(" CMD ", 1)[1])
    assert f":{port}/healthz" in " ".join(health)


def test_the_default_command_is_accepted_by_kizashi_watch(instructions, monkeypatch, tmp_path):
    """The CMD's options parse with the real CLI, and the copied example config loads
    with them — once a token is set, which a non-loopback listen address requires."""
    from kizashi.cli.watch import watch
    from kizashi.watch.config import apply_overrides, load_config

    runtime = stages(instructions)[-1]
    cmd = exec_form(only(runtime, "CMD"))
    copied = {i["value"].split()[-1]: i["value"].split()[-2] for i in runtime
              if i["instruction"] == "COPY" and not i["value"].startswith("--from")}
    config_path = ROOT / copied[cmd[0]]
    args = [str(config_path), *cmd[1:]]
    args[args.index("--state") + 1] = str(tmp_path / "watch.sqlite")
    context = watch.make_context("watch", list(args))
    params = context.params

    def load() -> object:
        return apply_overrides(load_config(params["config_path"]), state=params["state_path"],
                               listen=params["listen"])

    monkeypatch.delenv("KIZASHI_WATCH_TOKEN", raising=False)
    with pytest.raises(ValueError, match="token"):
        load()
    monkeypatch.setenv("KIZASHI_WATCH_TOKEN", "s3cret")
    config = load()
    assert config.listen_host_port == ("0.0.0.0", int(cmd[-1].rpartition(":")[2]))
    assert config.token == "s3cret"


def test_dockerignore_keeps_exactly_what_the_build_copies(instructions):
    rules = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert rules[0] == "**"  # everything else (.venv, .git, datasets, runs) stays out
    kept = {r[1:].rstrip("/") for r in rules if r.startswith("!")}
    for item in instructions:
        if item["instruction"] != "COPY" or item["value"].startswith("--from"):
            continue
        *sources, _ = shlex.split(item["value"])
        for source in sources:
            assert (ROOT / source).exists(), source
            assert any(source == k or source.startswith(k + "/") for k in kept), source
