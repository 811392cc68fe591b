"""The Kubernetes manifests: every overlay renders with `kubectl kustomize`, every document is
valid against the Kubernetes API schemas (offline, kubernetes-validate), the pods are locked
down, and the settings they give the service are ones `load_settings` reads and accepts."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import latest_version

from app.config import load_settings
from tests.support.certificates import certificate_authority, server_certificate

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
OVERLAYS = sorted(path.name for path in (DEPLOY / "overlays").iterdir() if path.is_dir())
EXAMPLES = sorted(path.name for path in (DEPLOY / "examples").glob("*.yaml"))
# The oldest Kubernetes the manifests are for (matchLabelKeys and unhealthyPodEvictionPolicy are
# beta there), and the newest the schemas know.
KUBERNETES_VERSIONS = ("1.27.0", latest_version())
IMAGE_SERVICE_USER = 10001  # deploy/Dockerfile's USER
RENDER_TIMEOUT_S = 60
# Stand-ins for the values the manifests take from Secrets, by variable name.
SECRET_PLACEHOLDERS = {"MONGODB_URI": "mongodb://mongo.invalid:27017/image_service?replicaSet=rs0"}
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}
TLS_SECRET = "image-service-tls"


def kubectl() -> str:
    """The virtualenv's kubectl (`make kubectl-binary` puts one there if PATH has none that
    is recent enough), else the one on PATH."""
    beside_python = Path(sys.executable).parent / "kubectl"
    found = str(beside_python) if beside_python.is_file() else shutil.which("kubectl")
    if found is None:
        pytest.fail("kubectl not found: run `make kubectl-binary`")
    return found


@cache
def render(overlay: str) -> tuple[dict[str, Any], ...]:
    """`kubectl kustomize deploy/overlays/<overlay>` as documents; no warning allowed."""
    # subprocess.run kills the child it started (by its pid) when the timeout expires
    done = subprocess.run(
        [kubectl(), "kustomize", str(DEPLOY / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=RENDER_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr  # e.g. a deprecated kustomization field
    return tuple(doc for doc in yaml.safe_load_all(done.stdout) if doc)


def example(name: str) -> tuple[dict[str, Any], ...]:
    text = (DEPLOY / "examples" / name).read_text()
    return tuple(doc for doc in yaml.safe_load_all(text) if doc)


def sources() -> Iterator[Any]:
    for overlay in OVERLAYS:
        yield pytest.param(lambda overlay=overlay: render(overlay), id=f"overlays/{overlay}")
    for name in EXAMPLES:
        yield pytest.param(lambda name=name: example(name), id=f"examples/{name}")


def one(docs: tuple[dict[str, Any], ...], kind: str, name: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def pod_specs(docs: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
    return [d["spec"]["template"]["spec"] for d in docs if d["kind"] in WORKLOAD_KINDS]


def api_pod(docs: tuple[dict[str, Any], ...]) -> dict[str, Any]:
    return one(docs, "Deployment", "image-service-api")["spec"]["template"]["spec"]


def test_the_overlays_and_examples_are_all_found() -> None:
    assert {"dev", "prod"} <= set(OVERLAYS)
    assert EXAMPLES


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_overlay_renders_the_service(overlay: str) -> None:
    docs = render(overlay)
    kinds = {d["kind"] for d in docs}
    assert {"Deployment", "Service", "ConfigMap", "PodDisruptionBudget"} <= kinds
    kustomization = DEPLOY / "overlays" / overlay / "kustomization.yaml"
    namespace = yaml.safe_load(kustomization.read_text())["namespace"]
    assert {d["metadata"].get("namespace") for d in docs} == {namespace}


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("load", list(sources()))
def test_every_document_is_valid_for_the_kubernetes_api(load: Any, version: str) -> None:
    docs = load()
    assert docs
    for doc in docs:
        kubernetes_validate.validate(doc, version, strict=True)


def test_the_validation_rejects_an_unknown_field() -> None:
    deployment = dict(one(render("prod"), "Deployment", "image-service-api"))
    deployment["spec"] = {**deployment["spec"], "replica": 3}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[0], strict=True)


@pytest.mark.parametrize("load", list(sources()))
def test_every_pod_runs_locked_down(load: Any) -> None:
    pods = pod_specs(load())
    assert pods
    for pod in pods:
        assert pod["automountServiceAccountToken"] is False
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert not {"hostNetwork", "hostPID", "hostIPC"} & set(pod)
        for container in pod["containers"] + pod.get("initContainers", []):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["readOnlyRootFilesystem"] is True
            assert context["capabilities"] == {"drop": ["ALL"]}
            assert not context.get("privileged", False)
            user = context.get("runAsUser", pod["securityContext"].get("runAsUser"))
            assert isinstance(user, int)
            assert user > 0


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_service_runs_as_the_images_user(overlay: str) -> None:
    pod = api_pod(render(overlay))
    assert pod["securityContext"]["runAsUser"] == IMAGE_SERVICE_USER
    assert pod["securityContext"]["runAsGroup"] == IMAGE_SERVICE_USER


@pytest.mark.parametrize("load", list(sources()))
def test_secrets_are_mounted_read_only(load: Any) -> None:
    for pod in pod_specs(load()):
        secret_volumes = {
            v["name"] for v in pod.get("volumes", []) if "secret" in v or "projected" in v
        }
        for container in pod["containers"]:
            for mount in container.get("volumeMounts", []):
                if mount["name"] in secret_volumes:
                    assert mount.get("readOnly") is True, mount
                    # a subPath mount never sees a renewed certificate or token
                    assert "subPath" not in mount, mount


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_probes_check_livez_and_readyz_on_the_served_port(overlay: str) -> None:
    docs = render(overlay)
    container = api_pod(docs)["containers"][0]
    env = container_env(docs, container)
    scheme = "HTTPS" if env.get("IMAGE_SERVICE_TLS_CERT") else "HTTP"
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    paths = {"startupProbe": "/livez", "livenessProbe": "/livez", "readinessProbe": "/readyz"}
    for probe, path in paths.items():
        get = container[probe]["httpGet"]
        assert (get["path"], get.get("scheme", "HTTP")) == (path, scheme)
        assert ports[get["port"]] == int(env["IMAGE_SERVICE_PORT"])
    service = one(docs, "Service", "image-service")
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= set(ports)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_secret_in_the_manifests_is_a_placeholder(overlay: str) -> None:
    for doc in render(overlay):
        if doc["kind"] == "Secret":
            assert "data" not in doc
            assert all("REPLACE-ME" in value for value in doc["stringData"].values()), doc


def test_prod_creates_no_secret_and_references_existing_ones() -> None:
    docs = render("prod")
    assert not [d for d in docs if d["kind"] == "Secret"]
    pod = api_pod(docs)
    referenced = {v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
    referenced |= {
        e["valueFrom"]["secretKeyRef"]["name"]
        for e in pod["containers"][0]["env"]
        if "secretKeyRef" in e.get("valueFrom", {})
    }
    assert {"image-service-mongodb", "image-service-metrics", TLS_SECRET} <= referenced


def container_env(docs: tuple[dict[str, Any], ...], container: dict[str, Any]) -> dict[str, str]:
    """The environment the container gets: ConfigMaps, then `env` (Secrets as placeholders)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(one(docs, "ConfigMap", source["configMapRef"]["name"])["data"])
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
        else:
            assert set(item["valueFrom"]) == {"secretKeyRef"}, item
            env[item["name"]] = SECRET_PLACEHOLDERS.get(item["name"], "placeholder-secret-value")
    return env


class RecordingEnv(Mapping[str, str]):
    """An environment that remembers which variables were looked up."""

    def __init__(self, values: dict[str, str]) -> None:
        self._values = values
        self.read: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.read.add(name)
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def on_this_machine(
    env: dict[str, str], pod: dict[str, Any], container: dict[str, Any], root: Path
) -> dict[str, str]:
    """`env` with paths under the container's Secret mounts moved below `root`, where the TLS
    Secret gets a real certificate and key."""
    secrets = {v["name"]: v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
    moved = dict(env)
    for mount in container["volumeMounts"]:
        if mount["name"] not in secrets:
            continue
        local = root / mount["name"]
        local.mkdir()
        if secrets[mount["name"]] == TLS_SECRET:
            server_certificate(certificate_authority()).write(local, "tls")
        for name, value in env.items():
            if value.startswith(mount["mountPath"] + "/"):
                moved[name] = str(local) + value[len(mount["mountPath"]) :]
    return moved


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_setting_is_one_the_service_reads_and_accepts(overlay: str, tmp_path: Path) -> None:
    docs = render(overlay)
    pod = api_pod(docs)
    container = pod["containers"][0]
    env = RecordingEnv(on_this_machine(container_env(docs, container), pod, container, tmp_path))
    settings = load_settings(env)
    assert set(env) - env.read == set()  # nothing the service would ignore (a typo, a stale name)
    assert (settings.host, settings.port) == ("0.0.0.0", 8080)
    assert Path(settings.tls_cert).is_file()
    assert Path(settings.tls_key).is_file()
    issuers = [(issuer.issuer, issuer.audience) for issuer in settings.oidc_issuers]
    assert issuers == [("https://kubernetes.default.svc.cluster.local", "image-service")]
