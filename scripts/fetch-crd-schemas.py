#!/usr/bin/env python3
"""Regenerate tests/ops/crds/: the OpenAPI schema of each custom resource kind the manifests use,
taken from the operators' own CustomResourceDefinitions at pinned releases.

- Strimzi publishes no CRD files in a registry, but its CRDs are generated from the Java model in
  io.strimzi:api by io.strimzi:crd-generator (both on Maven Central): this script runs that
  generator exactly as Strimzi's build does (needs mvn and java).
- KEDA and the Prometheus Operator: the CRD YAML files of their release tags (needs git; set
  KEDA_REPO / PROMETHEUS_OPERATOR_REPO to an existing clone to work offline).

Usage: python3 scripts/fetch-crd-schemas.py   (from the repository root)
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "ops" / "crds"
STRIMZI = "0.45.0"
STRIMZI_KINDS = {
    "KafkaTopic": "io.strimzi.api.kafka.model.topic.KafkaTopic",
    "KafkaUser": "io.strimzi.api.kafka.model.user.KafkaUser",
}
# The pom's own arguments for these two kinds (api/pom.xml, exec-maven-plugin).
STRIMZI_ARGS = [
    "--crd-api-version", "v1",
    "--api-versions", "v1alpha1,v1beta1,v1beta2",
    "--storage-version", "v1beta2",
    "--yaml",
]  # fmt: skip
GIT_SOURCES = {
    # kind: (env variable, clone URL, tag, path in the tree)
    "ScaledObject": (
        "KEDA_REPO",
        "https://github.com/kedacore/keda.git",
        "v2.20.2",
        "config/crd/bases/keda.sh_scaledobjects.yaml",
    ),
    "TriggerAuthentication": (
        "KEDA_REPO",
        "https://github.com/kedacore/keda.git",
        "v2.20.2",
        "config/crd/bases/keda.sh_triggerauthentications.yaml",
    ),
    "PodMonitor": (
        "PROMETHEUS_OPERATOR_REPO",
        "https://github.com/prometheus-operator/prometheus-operator.git",
        "v0.93.0",
        "example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml",
    ),
}
VERSIONS = {
    "KafkaTopic": "v1beta2",
    "KafkaUser": "v1beta2",
    "ScaledObject": "v1alpha1",
    "TriggerAuthentication": "v1alpha1",
    "PodMonitor": "v1",
}


def _write(crd: dict[str, Any]) -> None:
    kind = crd["spec"]["names"]["kind"]
    group = crd["spec"]["group"]
    (version,) = (v for v in crd["spec"]["versions"] if v["name"] == VERSIONS[kind])
    path = OUT / f"{group}_{version['name']}_{kind}.json"
    schema = version["schema"]["openAPIV3Schema"]
    path.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)}")


def strimzi(work: Path) -> None:
    (work / "pom.xml").write_text(
        f"""<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>local</groupId><artifactId>crd-schemas</artifactId><version>1</version>
<dependencies>
<dependency><groupId>io.strimzi</groupId><artifactId>api</artifactId>
<version>{STRIMZI}</version></dependency>
<dependency><groupId>io.strimzi</groupId><artifactId>crd-generator</artifactId>
<version>{STRIMZI}</version></dependency>
</dependencies></project>
""",
        encoding="utf-8",
    )
    classpath = work / "classpath.txt"
    subprocess.run(
        ["mvn", "-q", "dependency:build-classpath", f"-Dmdep.outputFile={classpath}"],
        cwd=work,
        check=True,
    )
    targets = [f"{cls}={work / kind}.yaml" for kind, cls in STRIMZI_KINDS.items()]
    subprocess.run(
        [
            "java",
            "-cp",
            classpath.read_text().strip(),
            "io.strimzi.crdgenerator.CrdGenerator",
            *STRIMZI_ARGS,
            *targets,
        ],
        cwd=work,
        check=True,
    )
    for kind in STRIMZI_KINDS:
        _write(yaml.safe_load((work / f"{kind}.yaml").read_text(encoding="utf-8")))


def from_git(work: Path) -> None:
    for kind, (variable, url, tag, member) in GIT_SOURCES.items():
        repo = os.environ.get(variable)
        if not repo:
            repo = str(work / variable)
            if not Path(repo).exists():
                subprocess.run(
                    ["git", "clone", "-q", "--bare", "--depth", "1", "--branch", tag, url, repo],
                    check=True,
                )
        text = subprocess.run(
            ["git", "--git-dir", repo, "show", f"{tag}:{member}"]
            if not (Path(repo) / ".git").exists()
            else ["git", "-C", repo, "show", f"{tag}:{member}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        (crd,) = (d for d in yaml.safe_load_all(text) if d)
        assert crd["spec"]["names"]["kind"] == kind
        _write(crd)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        strimzi(Path(tmp))
        from_git(Path(tmp))


if __name__ == "__main__":
    main()
