"""deploy/kubernetes/*.yaml: valid against the Kubernetes API schemas (kubernetes-validate,
strict), consistent with each other, loadable by kizashi, and the training wrapper resumes
after preemption (run under bash with a fake torchrun).

kubernetes-validate knows only the built-in kinds. The two custom resources — Kubeflow's
PyTorchJob and the Prometheus Operator's ServiceMonitor — are checked here field by field,
and the PyTorchJob's pod templates against the built-in PodTemplateSpec schema; their CRD
schemas are not available offline to validate against."""

from __future__ import annotations

import copy
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from fake_launchers import ScriptRun

kubernetes_validate = pytest.importorskip("kubernetes_validate",
                                          reason="pip install kubernetes-validate")
from kubernetes_validate.utils import ValidationError  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "deploy" / "kubernetes"
FILES = sorted(FOLDER.glob("*.yaml"))
CUSTOM = {("kubeflow.org/v1", "PyTorchJob"), ("monitoring.coreos.com/v1", "ServiceMonitor")}
VERSION = "1.30"  # the oldest Kubernetes the manifests target (podFailurePolicy is GA there)


def documents(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


@pytest.fixture(scope="module")
def resources() -> dict[tuple[str, str], dict]:
    found: dict[tuple[str, str], dict] = {}
    for path in FILES:
        for doc in documents(path):
            key = (doc["kind"], doc["metadata"]["name"])
            assert key not in found, f"{key} defined twice"
            found[key] = doc
    return found


def test_the_expected_files_exist():
    names = {p.name for p in FILES}
    assert {"watch.yaml", "servicemonitor.yaml", "train-storage.yaml", "train-pytorchjob.yaml",
            "train-indexed-job.yaml"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_builtin_kinds_pass_strict_schema_validation(path):
    for doc in documents(path):
        if (doc["apiVersion"], doc["kind"]) in CUSTOM:
            continue
        kubernetes_validate.validate(doc, VERSION, strict=True)


def test_strict_validation_rejects_a_misspelt_field(resources):
    deployment = copy.deepcopy(resources[("Deployment", "kizashi-watch")])
    deployment["spec"]["replica"] = deployment["spec"].pop("replicas")
    with pytest.raises(ValidationError):
        kubernetes_validate.validate(deployment, VERSION, strict=True)


def test_only_the_known_custom_resources_are_left_to_field_checks(resources):
    kinds = {(doc["apiVersion"], doc["kind"]) for doc in resources.values()}
    assert kinds & CUSTOM == CUSTOM
    for _api, kind in kinds - CUSTOM:
        doc = next(d for d in resources.values() if d["kind"] == kind)
        kubernetes_validate.validate(doc, VERSION)  # a schema exists for every other kind


@pytest.mark.parametrize("version", [VERSION, None], ids=["oldest", "newest"])
def test_the_cli_passes_every_file(version):
    program = Path(sys.executable).with_name("kubernetes-validate")
    if not program.exists():
        pytest.skip("kubernetes-validate's command is not installed beside this python")
    versions = ["-k", version] if version else []  # none: the newest it knows
    result = subprocess.run([str(program), "--strict", *versions, *map(str, FILES)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ERROR" not in result.stdout
    warned = [line for line in result.stdout.splitlines() if line.startswith("WARN")]
    assert len(warned) == len(CUSTOM) and all(
        any(kind in line for _, kind in CUSTOM) for line in warned)


def pod_spec(doc: dict) -> dict:
    return doc["spec"]["template"]["spec"]


def test_watch_deployment_service_and_servicemonitor_fit_together(resources):
    deployment = resources[("Deployment", "kizashi-watch")]
    service = resources[("Service", "kizashi-watch")]
    monitor = resources[("ServiceMonitor", "kizashi-watch")]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"]["type"] == \
        "Recreate"  # one writer of the SQLite file
    container = pod_spec(deployment)["containers"][0]
    container_ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    service_ports = {p["name"]: p for p in service["spec"]["ports"]}
    assert all(p["targetPort"] in container_ports for p in service_ports.values())
    # ServiceMonitor: selects the Service, scrapes a named port of it, with the token
    assert monitor["spec"]["selector"]["matchLabels"].items() <= \
        service["metadata"]["labels"].items()
    for endpoint in monitor["spec"]["endpoints"]:
        assert endpoint["port"] in service_ports and endpoint["path"] == "/metrics"
        assert endpoint["authorization"]["credentials"] == \
            container["env"][0]["valueFrom"]["secretKeyRef"]
    # the probes use a port the container has
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["port"] in container_ports


def test_pods_mount_only_what_the_manifests_define(resources):
    for (kind, name), doc in resources.items():
        if kind not in ("Deployment", "Job"):
            continue
        spec = pod_spec(doc)
        for volume in spec["volumes"]:
            if "persistentVolumeClaim" in volume:
                claim = volume["persistentVolumeClaim"]["claimName"]
                assert ("PersistentVolumeClaim", claim) in resources, (name, claim)
            if "configMap" in volume:
                assert ("ConfigMap", volume["configMap"]["name"]) in resources, name
        mounted = {m["name"] for c in spec["containers"] for m in c["volumeMounts"]}
        assert mounted == {v["name"] for v in spec["volumes"]}, name


def test_watch_configmap_and_args_load_in_kizashi(resources, tmp_path, monkeypatch):
    from kizashi.cli.watch import watch
    from kizashi.watch.config import apply_overrides, load_config

    deployment = resources[("Deployment", "kizashi-watch")]
    config_map = resources[("ConfigMap", "kizashi-watch-config")]
    container = pod_spec(deployment)["containers"][0]
    mount = next(m for m in container["volumeMounts"] if m["name"] == "config")["mountPath"]
    state = next(m for m in container["volumeMounts"] if m["name"] == "state")["mountPath"]
    args = list(container["args"])
    config_file = Path(args[0])
    assert config_file.parent == Path(mount) and config_file.name in config_map["data"]
    local = tmp_path / config_file.name
    local.write_text(config_map["data"][config_file.name])
    state_arg = Path(args[args.index("--state") + 1])
    assert state_arg.parent == Path(state)  # the state file is on the volume
    args[0], args[args.index("--state") + 1] = str(local), str(tmp_path / state_arg.name)
    params = watch.make_context("watch", args).params
    monkeypatch.setenv("KIZASHI_WATCH_TOKEN", "t")
    config = apply_overrides(load_config(params["config_path"]), state=params["state_path"],
                             listen=params["listen"])
    host, port = config.listen_host_port
    assert host == "0.0.0.0" and port == container["ports"][0]["containerPort"]


def test_train_configmap_loads_in_kizashi(resources, tmp_path):
    from kizashi.dl.config import load_config

    data = resources[("ConfigMap", "kizashi-train-config")]["data"]
    path = tmp_path / "train.yaml"
    path.write_text(data["train.yaml"])
    run = load_config(str(path))
    assert run.data["source"] == "csv"
    runs_mount = "/runs"
    assert Path(run.data["path"]).is_relative_to(runs_mount)


def wrapper(container: dict) -> str:
    assert container["command"] == ["/bin/bash", "-c"]
    return container["args"][0]


def test_pytorchjob_fields(resources):
    """What the training operator requires: Master (one replica) and Workers, each with a
    restart policy it knows and a container named ``pytorch``; pod templates valid as
    built-in PodTemplateSpecs."""
    job = resources[("PyTorchJob", "kizashi-train")]
    replicas = job["spec"]["pytorchReplicaSpecs"]
    assert set(replicas) <= {"Master", "Worker"} and replicas["Master"]["replicas"] == 1
    for spec in replicas.values():
        assert spec["restartPolicy"] == "ExitCode"  # exit 128-255 (143: stopped) restarts
        kubernetes_validate.validate({"apiVersion": "v1", "kind": "PodTemplate",
                                      "metadata": {"name": "t"}, "template": spec["template"]},
                                     VERSION, strict=True)
        containers = spec["template"]["spec"]["containers"]
        assert [c["name"] for c in containers] == ["pytorch"]
        script = wrapper(containers[0])
        for variable in ("PET_NNODES", "PET_NODE_RANK", "PET_MASTER_ADDR", "PET_MASTER_PORT"):
            assert f"${variable}" in script
    assert isinstance(job["spec"]["nprocPerNode"], str)


def test_indexed_job_rendezvous_is_pod_zero_of_the_headless_service(resources):
    job = resources[("Job", "kizashi-train")]
    service = resources[("Service", "kizashi-train")]
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed" and spec["completions"] == spec["parallelism"]
    pod = spec["template"]["spec"]
    assert service["spec"]["clusterIP"] == "None" and pod["subdomain"] == service["metadata"][
        "name"]
    assert service["spec"]["selector"] == {"batch.kubernetes.io/job-name": job["metadata"]["name"]}
    container = pod["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["RDZV_HOST"] == f"{job['metadata']['name']}-0.{pod['subdomain']}"
    assert int(env["NNODES"]) == spec["completions"]
    rdzv_port = next(p["containerPort"] for p in container["ports"] if p["name"] == "rendezvous")
    assert f'--rdzv-endpoint="$RDZV_HOST:{rdzv_port}"' in wrapper(container)
    assert "--rdzv-backend=c10d" in wrapper(container)
    # preemption is not a failure; peers stopping with exit 143 are replaced too
    rules = spec["podFailurePolicy"]["rules"]
    assert {"action": "Ignore",
            "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]} in rules
    assert any(r["action"] == "Ignore" and 143 in r.get("onExitCodes", {}).get("values", [])
               and r["onExitCodes"]["containerName"] == container["name"] for r in rules)
    assert pod["restartPolicy"] == "Never"


def training_scripts(resources) -> dict[str, tuple[str, dict[str, str]]]:
    """Each manifest's training script and the environment its pods get."""
    job = resources[("Job", "kizashi-train")]
    container = pod_spec(job)["containers"][0]
    indexed_env = {e["name"]: e["value"] for e in container["env"]}
    pytorch = resources[("PyTorchJob", "kizashi-train")]["spec"]["pytorchReplicaSpecs"]
    operator_env = {"PET_NNODES": "2", "PET_NODE_RANK": "1", "PET_MASTER_ADDR": "kizashi-m-0",
                    "PET_MASTER_PORT": "23456", "PET_NPROC_PER_NODE": "1"}
    return {"indexed": (wrapper(container), indexed_env),
            "pytorchjob": (wrapper(pytorch["Worker"]["template"]["spec"]["containers"][0]),
                           operator_env)}


@pytest.fixture(params=["indexed", "pytorchjob"])
def training(request, resources):
    if shutil.which("bash") is None:
        pytest.skip("needs bash")
    return training_scripts(resources)[request.param]


def run_wrapper(tmp_path: Path, training: tuple[str, dict[str, str]], mode: str) -> ScriptRun:
    script, env = training
    return ScriptRun(tmp_path, ["bash", "-c", script],
                     {**env, "OUT": str(tmp_path / "out")}, mode)


def test_both_manifests_run_the_same_wrapper(resources):
    scripts = training_scripts(resources)
    tails = {name: s.split("-m kizashi.train", 1)[1] for name, (s, _) in scripts.items()}
    assert tails["indexed"] == tails["pytorchjob"]


@pytest.mark.parametrize(("mode", "status"), [("finish", 0), ("stopped", 143), ("fail", 3)])
def test_wrapper_exit_status(tmp_path, training, mode, status):
    """Finished → 0 (the pod succeeds); stopped early because a peer was preempted → 143
    (retryable, ignored by the failure policy); a real failure keeps its status."""
    run = run_wrapper(tmp_path, training, mode)
    code, output = run.finish()
    assert code == status, output
    (call,) = run.calls("torchrun")
    args = call["args"]
    assert args[args.index("-m") + 1] == "kizashi.train" and "--resume" in args
    assert args[args.index("--out") + 1] == str(tmp_path / "out")
    _script, env = training
    if "PET_MASTER_ADDR" in env:
        assert f"--master-addr={env['PET_MASTER_ADDR']}" in args
        assert f"--node-rank={env['PET_NODE_RANK']}" in args
    else:
        assert f"--rdzv-endpoint={env['RDZV_HOST']}:29400" in args
        assert f"--nnodes={env['NNODES']}" in args


def test_wrapper_forwards_sigterm_and_asks_to_be_resumed(tmp_path, training):
    """Preemption: SIGTERM to the pod's shell reaches torchrun, which checkpoints; the pod
    exits 143 so it is replaced and resumed — not 1, which would fail the job."""
    run = run_wrapper(tmp_path, training, "wait")
    run.wait_ready()
    run.signal(signal.SIGTERM)
    code, output = run.finish()
    assert code == 143, output
    assert any(c.get("signal") == signal.SIGTERM for c in run.calls("torchrun"))
    assert (tmp_path / "out" / "checkpoint.pt").exists()


def test_wrapper_finishes_a_resumed_run_whose_model_is_older(tmp_path, training):
    """A model.pt older than the checkpoint (left by an earlier run) is not 'finished'."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "model.pt").write_bytes(b"old")
    os.utime(out / "model.pt", (1, 1))
    code, output = run_wrapper(tmp_path, training, "stopped").finish()
    assert code == 143, output


def test_scripts_are_valid_bash(resources):
    for name, (script, _) in training_scripts(resources).items():
        result = subprocess.run(["bash", "-n", "-c", script], capture_output=True, text=True)
        assert result.returncode == 0, (name, result.stderr)
        assert shlex.split(script)  # no unbalanced quotes


@pytest.mark.slow
@pytest.mark.integration
def test_pytorchjob_wrapper_trains_with_the_real_torchrun(resources, tmp_path):
    """The PyTorchJob's script with the real torchrun and kizashi.train, given the
    environment the training operator sets for a one-pod job: torchrun accepts the flags
    built from PET_*, the run finishes and the pod exits 0."""
    pytest.importorskip("torch.distributed.run")
    import socket

    script, _ = training_scripts(resources)["pytorchjob"]
    config = tmp_path / "train.json"
    config.write_text(json.dumps({
        "seed": 0, "epochs": 1, "batch_size": 8, "patience": None, "checkpoint_every": 0,
        "device": "cpu", "threads": 1, "data": {"source": "synthetic", "n": 300, "n_series": 2},
        "model": {"name": "autoencoder", "window": 4, "hidden": 8, "latent": 2},
        "optimiser": {"name": "adam", "lr": 0.01}, "scheduler": {"name": "none"}}))
    assert script.count("/etc/kizashi/train.yaml") == 1  # the ConfigMap's mount
    script = script.replace("/etc/kizashi/train.yaml", str(config))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"PET_NNODES": "1", "PET_NODE_RANK": "0", "PET_MASTER_ADDR": "127.0.0.1",
           "PET_MASTER_PORT": str(port), "PET_NPROC_PER_NODE": "1",
           "OUT": str(tmp_path / "out"), "OMP_NUM_THREADS": "1"}
    code, output = ScriptRun(tmp_path, ["bash", "-c", script], env, "real",
                             real_torchrun=True).finish(timeout=300)
    assert code == 0, output[-3000:]
    assert "trained" in output and (tmp_path / "out" / "model.pt").is_file()
