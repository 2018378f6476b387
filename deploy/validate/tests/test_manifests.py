"""Offline validation of the deployment files under deploy/.

- Kubernetes manifests (deploy/k8s/*.yaml): kubernetes-validate --strict against the Kubernetes API
  schemas it bundles (unknown fields fail too). kustomization.yaml has no bundled schema: its resource
  list is checked against the files instead.
- Compose (deploy/compose/compose.yaml): check-jsonschema against the vendored compose-spec schema.
- Prometheus (deploy/compose/prometheus.yml) and the Dockerfiles (deploy/container/): no offline
  validator is on PyPI (promtool and hadolint are Go/Haskell binaries), so they are parsed (PyYAML,
  dockerfile-parse) and checked for what the other files rely on.
- Every DEEBERT_* variable and ConfigMap key names a real setting of
  streams-app/src/main/resources/deebert-streams.properties (or a pass-through prefix), so a typo fails here
  instead of being silently ignored by the service.

Negative tests break a copy of a manifest and of the compose file in a temp dir and expect the
validator to fail, so these tests can fail at all. Where the sandbox allows it (`unshare -rn`), the
validators run without a network, proving they need none.

Run: deploy/validate/.venv/bin/python -m pytest deploy/validate/tests (deploy/run-tests.sh does).
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from dockerfile_parse import DockerfileParser

REPO = Path(__file__).resolve().parents[3]
K8S = REPO / "deploy" / "k8s"
COMPOSE = REPO / "deploy" / "compose" / "compose.yaml"
PROMETHEUS = REPO / "deploy" / "compose" / "prometheus.yml"
CONTAINER = REPO / "deploy" / "container"
SETTINGS = REPO / "streams-app" / "src" / "main" / "resources" / "deebert-streams.properties"
BIN = Path(sys.executable).parent

MANIFESTS = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
DOCKERFILES = sorted(p for p in CONTAINER.glob("Dockerfile.*") if p.suffix != ".dockerignore")


@functools.cache
def offline_prefix() -> tuple[str, ...]:
    """`unshare -rn` (a user namespace with no network) when this machine allows it, else nothing."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-rn", "true"], capture_output=True).returncode == 0:
        return (unshare, "-rn")
    return ()


def run_tool(tool: str, *args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*offline_prefix(), str(BIN / tool), *map(str, args)], capture_output=True, text=True, timeout=120
    )


def kubernetes_validate(*files: Path) -> subprocess.CompletedProcess:
    return run_tool("kubernetes-validate", "--strict", *files)


def check_compose(file: Path) -> subprocess.CompletedProcess:
    return run_tool("check-jsonschema", "--builtin-schema", "vendor.compose-spec", file)


def load_yaml(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# --- Kubernetes --------------------------------------------------------------------------------------


def test_there_are_manifests_to_validate():
    assert {p.name for p in MANIFESTS} >= {
        "configmap.yaml", "secret.yaml", "deployment.yaml", "service.yaml", "pdb.yaml"}


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda p: p.name)
def test_manifest_passes_kubernetes_validate_strict(manifest: Path):
    result = kubernetes_validate(manifest)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "passed for resource" in output, output
    assert "Couldn't find schema" not in output, output


def _unknown_field(doc):
    doc["spec"]["replica"] = 2  # a typo of "replicas": only --strict catches it
    return "replica"


def _wrong_type(doc):
    doc["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = ["2Gi"]
    return "limits.memory"


@pytest.mark.parametrize("breakage", [_unknown_field, _wrong_type], ids=["unknown-field", "wrong-type"])
def test_kubernetes_validate_rejects_a_broken_manifest(tmp_path: Path, breakage):
    doc = load_yaml(K8S / "deployment.yaml")
    field = breakage(doc)
    broken = tmp_path / "deployment.yaml"
    broken.write_text(yaml.safe_dump(doc), encoding="utf-8")
    result = kubernetes_validate(broken)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert field in output, output


def test_kustomization_lists_exactly_the_manifests():
    kustomization = load_yaml(K8S / "kustomization.yaml")
    assert kustomization["kind"] == "Kustomization"
    assert sorted(kustomization["resources"]) == sorted(p.name for p in MANIFESTS)
    deployment = load_yaml(K8S / "deployment.yaml")
    image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.rsplit(":", 1)[0] in {i["name"] for i in kustomization["images"]}


def test_deployment_probes_resources_and_grace_period():
    spec = load_yaml(K8S / "deployment.yaml")["spec"]["template"]["spec"]
    container = spec["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][kind])
    assert spec["terminationGracePeriodSeconds"] >= 30
    assert spec["securityContext"]["runAsNonRoot"] is True
    env = {e["name"]: e for e in container["env"]}
    assert env["DEEBERT_SASL_JAAS_CONFIG"]["valueFrom"]["secretKeyRef"]["key"] == "sasl.jaas.config"
    config = load_yaml(K8S / "configmap.yaml")["data"]["deebert-streams.properties"]
    settings = properties(config)
    assert settings["security.protocol"] == "SASL_SSL"
    assert settings["sasl.mechanism"] == "SCRAM-SHA-512"
    assert "sasl.jaas.config" not in settings, "the JAAS line (with its password) belongs in the Secret"
    mounted = {m["mountPath"] for m in container["volumeMounts"]}
    assert any(settings["ssl.truststore.location"].startswith(m + "/") for m in mounted)
    assert any(arg.startswith("/etc/deebert/config/") for arg in container["args"])


# --- Compose and Prometheus --------------------------------------------------------------------------


def test_compose_file_passes_the_compose_spec_schema():
    result = check_compose(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_schema_rejects_a_broken_compose_file(tmp_path: Path):
    doc = load_yaml(COMPOSE)
    doc["services"]["deebert"]["depends_on"]["kafka"]["condition"] = "service_ready"  # not a condition
    doc["services"]["deebert"]["restart_policy"] = "always"  # not a service key
    broken = tmp_path / "compose.yaml"
    broken.write_text(yaml.safe_dump(doc), encoding="utf-8")
    result = check_compose(broken)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "service_ready" in output, output


def test_compose_images_are_pinned_and_the_service_waits_for_healthy_dependencies():
    services = load_yaml(COMPOSE)["services"]
    for name, service in services.items():
        if "image" in service and "build" not in service:
            # ${VAR:-default}: the published image stays the default, pinned; a variable may replace it.
            image = compose_default(service["image"])
            assert re.fullmatch(r"[\w./-]+:[\w.-]+", image), name
            assert not image.endswith(":latest"), name
    deebert = services["deebert"]
    assert deebert["build"]["dockerfile"] == "deploy/container/Dockerfile.cpu"
    for dependency, condition in deebert["depends_on"].items():
        assert condition["condition"] == "service_healthy", dependency
        assert "healthcheck" in services[dependency], dependency
    assert deebert["environment"]["DEEBERT_TOPICS_CREATE"] == "true"


def compose_default(value: str) -> str:
    """A compose value with each ${VAR:-default} / ${VAR-default} replaced by its default (what runs when the
    variable is unset); a ${VAR} without a default stays as written."""
    return re.sub(r"\$\{\w+:?-([^}]*)\}", r"\1", value)


def test_compose_default_reads_variable_defaults():
    assert compose_default("${KAFKA_IMAGE:-apache/kafka:4.3.1}") == "apache/kafka:4.3.1"
    assert compose_default("127.0.0.1:${PORT:-9094}:9094") == "127.0.0.1:9094:9094"
    assert compose_default("${KAFKA_IMAGE}") == "${KAFKA_IMAGE}"


def test_prometheus_scrapes_the_service_metrics_endpoint():
    config = load_yaml(PROMETHEUS)
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    job = jobs["deebert-streams"]
    assert job.get("metrics_path", "/metrics") == "/metrics"
    targets = [t for group in job["static_configs"] for t in group["targets"]]
    services = load_yaml(COMPOSE)["services"]
    port = services["deebert"]["ports"][0].split(":")[-1]
    assert f"deebert:{port}" in targets


# --- Dockerfiles -------------------------------------------------------------------------------------


def test_there_are_dockerfiles():
    assert {p.name for p in DOCKERFILES} == {"Dockerfile.cpu", "Dockerfile.gpu"}


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfile_parses_with_pinned_bases_non_root_user_and_healthcheck(dockerfile: Path):
    with dockerfile.open("rb") as content:  # fileobj: `path` must be a directory or a file named Dockerfile
        parser = DockerfileParser(fileobj=content)
        structure = parser.structure
    instructions = [(i["instruction"], i["value"]) for i in structure]
    by_name: dict[str, list[str]] = {}
    for name, value in instructions:
        by_name.setdefault(name, []).append(value)
    images = base_images(instructions)
    assert images, "no FROM"
    for image in images:
        assert re.fullmatch(r"[\w./-]+:[\w.-]+", image), f"{image} is not pinned to a tag"
        assert not image.endswith(":latest"), image
    assert by_name["USER"][-1].split(":")[0] not in {"root", "0"}
    assert by_name["EXPOSE"] == ["8080"]
    assert "/health/live" in by_name["HEALTHCHECK"][0]
    assert by_name["ENTRYPOINT"][-1].startswith('["'), "exec form, so SIGTERM reaches the JVM"
    assert "bin/deebert-streams" in by_name["ENTRYPOINT"][-1]
    assert by_name["CMD"][-1].startswith('["run", "--config"')
    # The archive the image unpacks is the one streams-app's assembly names.
    suffix = "-gpu" if dockerfile.name.endswith(".gpu") else ""
    adds = " ".join(by_name["ADD"])
    assert f"streams-app/target/deebert-streams-${{DIST_VERSION}}{suffix}-dist.tar.gz" in adds
    version = re.search(r"<artifactId>deebert-streams-parent</artifactId>\s*<version>([^<]+)</version>",
                        (REPO / "pom.xml").read_text(encoding="utf-8")).group(1)
    assert f"DIST_VERSION={version}" in by_name["ARG"]
    assert "DEEBERT_MODEL_DIR=/opt/deebert/model" in " ".join(by_name["ENV"])


def base_images(instructions: list[tuple[str, str]]) -> list[str]:
    """The images a Dockerfile builds on: each FROM and COPY --from that names an image rather than an earlier
    stage, with ${ARG} references replaced by the ARG's default (a base from a build argument must still
    default to a pinned, published image)."""
    args: dict[str, str] = {}
    stages: set[str] = set()
    images: list[str] = []

    def resolve(value: str) -> str:
        return re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), value)

    for name, value in instructions:
        if name == "ARG" and "=" in value:
            key, default = value.split("=", 1)
            args.setdefault(key.strip(), default.strip())
        elif name == "FROM":
            words = value.split()
            image = resolve(words[0])
            if image not in stages:
                images.append(image)
            if len(words) == 3 and words[1].upper() == "AS":
                stages.add(words[2])
        elif name == "COPY":
            m = re.match(r"--from=(\S+)", value)
            if m and resolve(m.group(1)) not in stages:
                images.append(resolve(m.group(1)))
    return images


def test_base_images_resolve_build_arguments_to_their_pinned_defaults():
    instructions = [("ARG", "BASE_IMAGE=eclipse-temurin:17.0.15_6-jre-jammy"), ("ARG", "JRE=x/jre:1.0"),
                    ("FROM", "${JRE} AS jre"), ("FROM", "${BASE_IMAGE}"), ("COPY", "--from=jre /a /a")]
    assert base_images(instructions) == ["x/jre:1.0", "eclipse-temurin:17.0.15_6-jre-jammy"]
    assert base_images([("FROM", "$UNSET")]) == ["$UNSET"]  # an ARG without a default stays unresolved: not pinned


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfile_base_image_is_a_build_argument(dockerfile: Path):
    text = dockerfile.read_text(encoding="utf-8")
    assert re.search(r"^ARG BASE_IMAGE=\S+:\S+$", text, re.M), "ARG BASE_IMAGE=<published default>"
    assert re.search(r"^FROM \$\{BASE_IMAGE\}$", text, re.M)


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfile_ignore_file_keeps_the_archive_and_the_models(dockerfile: Path):
    ignore = dockerfile.with_name(dockerfile.name + ".dockerignore")
    lines = [line.strip() for line in ignore.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    suffix = "-gpu" if dockerfile.name.endswith(".gpu") else ""
    assert lines[0] == "*"
    assert f"!streams-app/target/deebert-streams-*{suffix}-dist.tar.gz" in lines
    assert "!model-export/models/" in lines


# --- Settings named in deployment files are real settings --------------------------------------------


def properties(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "!")) and "=" in line:
            key, value = line.split("=", 1)
            out[key.strip()] = value.strip()
    return out


KNOWN_KEYS = set(properties(SETTINGS.read_text(encoding="utf-8")))
PASS_THROUGH = ("kafka.", "ssl.", "sasl.")


def known_setting(key: str) -> bool:
    return key in KNOWN_KEYS or key == "security.protocol" or key.startswith(PASS_THROUGH)


def env_to_key(name: str) -> str | None:
    """The setting a DEEBERT_* variable overrides, as AppSettings maps it (None: ignored by the service)."""
    for key in KNOWN_KEYS:
        if "DEEBERT_" + key.upper().replace(".", "_").replace("-", "_") == name:
            return key
    guess = name.removeprefix("DEEBERT_").lower().replace("_", ".")
    return guess if known_setting(guess) else None


def deebert_env_names() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    files = [COMPOSE, K8S / "deployment.yaml", *DOCKERFILES]
    for path in files:
        found[path.name] = set(re.findall(r"\bDEEBERT_[A-Z0-9_]+\b", path.read_text(encoding="utf-8")))
    return found


def test_every_deebert_variable_names_a_setting():
    unknown = {f: sorted(n for n in names if env_to_key(n) is None) for f, names in deebert_env_names().items()}
    assert not any(unknown.values()), unknown


def test_every_configmap_key_is_a_setting():
    config = load_yaml(K8S / "configmap.yaml")["data"]["deebert-streams.properties"]
    unknown = sorted(k for k in properties(config) if not known_setting(k))
    assert not unknown, unknown


def test_the_settings_mapping_catches_a_typo():
    assert env_to_key("DEEBERT_MODEL_DIR") == "model.dir"
    assert env_to_key("DEEBERT_SASL_JAAS_CONFIG") == "sasl.jaas.config"
    assert env_to_key("DEEBERT_MODELDIR") is None
