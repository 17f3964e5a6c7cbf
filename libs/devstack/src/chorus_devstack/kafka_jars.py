"""Apache Kafka's jars: from `$KAFKA_HOME/libs`, or resolved from Maven Central once.

Maven runs only when the jar directory is missing or was resolved from a different
`deploy/kafka/pom.xml` (a version bump): a marker file records the pom's hash and the
jar list. Jars are copied into a temporary directory that is renamed into place, so an
interrupted download never leaves a half-filled directory that looks complete.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from chorus_devstack import procs
from chorus_devstack.paths import StackPaths
from chorus_devstack.system import require_binary

MARKER = ".resolved"


def pom_digest(pom: Path) -> str:
    return hashlib.sha256(pom.read_bytes()).hexdigest()


def jars_complete(libs: Path, pom: Path) -> bool:
    """True if `libs` holds every jar recorded when it was resolved from this pom."""
    try:
        digest, *jars = (libs / MARKER).read_text().split()
    except (OSError, ValueError):
        return False
    return (
        digest == pom_digest(pom)
        and any(j.startswith("kafka_2.13-") for j in jars)
        and all((libs / jar).is_file() for jar in jars)
    )


def resolve_with_maven(paths: StackPaths) -> Path:
    """Copy the pom's dependencies into `.local/kafka/libs` with Maven."""
    mvn = require_binary("mvn", "maven")
    staging = paths.kafka / "libs.partial"
    shutil.rmtree(staging, ignore_errors=True)
    log = paths.kafka / "mvn.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        mvn, "-q", "-B", "-f", str(paths.kafka_pom),
        f"-Dmaven.repo.local={paths.maven_repo}",
        "dependency:copy-dependencies", f"-DoutputDirectory={staging}",
    ]  # fmt: skip
    print("devstack: resolving Kafka jars with Maven (first run only)", flush=True)
    with log.open("wb") as out:
        rc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
    jars = sorted(p.name for p in staging.glob("*.jar")) if staging.is_dir() else []
    if rc != 0 or not any(j.startswith("kafka_2.13-") for j in jars):
        raise RuntimeError(
            f"kafka: Maven could not resolve the broker jars (rc={rc})\n"
            f"--- last lines of {log} ---\n{procs.tail(log)}"
        )
    (staging / MARKER).write_text("\n".join([pom_digest(paths.kafka_pom), *jars]) + "\n")
    shutil.rmtree(paths.kafka_libs, ignore_errors=True)
    staging.rename(paths.kafka_libs)
    return paths.kafka_libs


def kafka_libs(paths: StackPaths, environ: Mapping[str, str] | None = None) -> Path:
    """The directory of Kafka jars to put on the classpath, resolving it if needed."""
    env = os.environ if environ is None else environ
    if env.get("KAFKA_HOME"):
        libs = Path(env["KAFKA_HOME"]) / "libs"
        if not any(libs.glob("kafka_2.13-*.jar")):
            raise RuntimeError(f"kafka: KAFKA_HOME is set but {libs} has no kafka_2.13 jar")
        return libs
    if jars_complete(paths.kafka_libs, paths.kafka_pom):
        return paths.kafka_libs
    return resolve_with_maven(paths)
