"""Command-line tools.

- ``train``: the container's command. It checks that the ``/opt/ml/input/config`` files are valid
  JSON (the toolkit would otherwise fail with a bare traceback), then runs the toolkit's trainer,
  which calls ``$SAGEMAKER_TRAINING_MODULE`` (``sagemaker_dgl.training:main``).
- ``sagemaker-dgl local``: lay out an ``/opt/ml``-shaped folder from hyperparameters and
  channel folders, and run a job in it exactly as the container would.
- ``sagemaker-dgl download NAME DIR``: fetch a named dataset (checksummed) into a folder that can
  be passed as channel ``train``.
- ``sagemaker-dgl hyperparameters``: print the hyperparameter tables (Markdown).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

CONFIG_FILES = ("hyperparameters.json", "inputdataconfig.json", "resourceconfig.json")
TRAINING_MODULE = "sagemaker_dgl.training:main"


def train() -> None:
    """Console script ``train``: validate the job's config files, then run the toolkit's trainer."""
    os.environ.setdefault("SAGEMAKER_TRAINING_MODULE", TRAINING_MODULE)
    from sagemaker_training import environment, files, trainer

    problem = _config_problem(Path(environment.input_config_dir))
    if problem:
        files.write_failure_file(problem)
        print(f"ERROR: {problem}", file=sys.stderr)
        sys.exit(1)
    trainer.train()


def _config_problem(config_dir: Path) -> Optional[str]:
    """A one-line description of the first missing or malformed config file, else None."""
    for name in CONFIG_FILES:
        path = config_dir / name
        if not path.exists():
            if name == "hyperparameters.json":
                continue  # a job without hyperparameters is fine
            return f"{path} is missing; SageMaker writes it for every job, and a local run must provide it"
        try:
            value = json.loads(path.read_text())
        except ValueError as error:
            return f"{path} is not valid JSON ({error}); it must be one JSON object of string values"
        if not isinstance(value, dict):
            return f"{path} must hold a JSON object, not {type(value).__name__}"
    return None


def lay_out_job(base_dir: Path, hyperparameters: dict, channels: dict, host: str = "localhost",
                copy_channels: bool = False) -> None:
    """Write an ``/opt/ml``-shaped tree under ``base_dir`` as SageMaker would for one instance.

    Hyperparameter values are JSON-encoded strings, as the SageMaker SDK sends them. Channels are
    symbolic links to the given folders, or copies with ``copy_channels`` (a link does not resolve
    inside a container that mounts ``base_dir``). The one host defaults to ``localhost``: the
    toolkit waits until every host name resolves before it starts a user script, and ``algo-1``
    resolves only inside SageMaker's (or local mode's) container network. Earlier ``input``,
    ``model`` and ``output`` are replaced; ``checkpoints`` is kept so that a stopped job can resume.
    """
    for name in ("input", "model", "output"):
        shutil.rmtree(base_dir / name, ignore_errors=True)
    config = base_dir / "input" / "config"
    config.mkdir(parents=True)
    (base_dir / "model").mkdir()
    (base_dir / "output" / "data").mkdir(parents=True)
    encoded = {key: value if isinstance(value, str) else json.dumps(value) for key, value in hyperparameters.items()}
    (config / "hyperparameters.json").write_text(json.dumps(encoded, indent=2))
    input_config = {name: {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated"} for name in channels}
    (config / "inputdataconfig.json").write_text(json.dumps(input_config, indent=2))
    resources = {"current_host": host, "hosts": [host], "network_interface_name": "eth0"}
    (config / "resourceconfig.json").write_text(json.dumps(resources, indent=2))
    for name, source in channels.items():
        channel = base_dir / "input" / "data" / name
        channel.parent.mkdir(parents=True, exist_ok=True)
        if copy_channels:
            shutil.copytree(source, channel)
        else:
            channel.symlink_to(Path(source).resolve(), target_is_directory=True)


def _download(name: str, directory: Path) -> None:
    import logging

    from .data import DATASETS, fetch
    from .errors import SageMakerDGLError

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        fetch(DATASETS.get(name), directory)
    except SageMakerDGLError as error:
        sys.exit(f"error: {error}")
    print(f"{name}: {len(list(directory.iterdir()))} files in {directory}; use it as channel 'train', e.g. "
          f"sagemaker-dgl local --channel train={directory}")


def _key_value(text: str) -> tuple:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def main(argv: Optional[List[str]] = None) -> None:
    """Console script ``sagemaker-dgl``."""
    parser = argparse.ArgumentParser(prog="sagemaker-dgl", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    local = commands.add_parser("local", help="run a training job in a local /opt/ml-shaped folder")
    local.add_argument("hyperparameters", nargs="*", type=_key_value, metavar="KEY=VALUE",
                       help="hyperparameters, e.g. model=gat epochs=100")
    local.add_argument("--channel", action="append", type=_key_value, default=[], metavar="NAME=DIR",
                       help="data channel folder, e.g. --channel train=data/cora (repeatable)")
    local.add_argument("--base-dir", type=Path, default=Path("build/opt_ml"), help="job folder (default: %(default)s)")
    local.add_argument("--checkpoints", action="store_true", help="create <base-dir>/checkpoints (enables resuming)")
    download = commands.add_parser("download", help="fetch a named dataset into a folder to use as channel 'train'")
    download.add_argument("name", help="dataset name, e.g. cora")
    download.add_argument("directory", type=Path, help="folder to write the files to")
    commands.add_parser("hyperparameters", help="print the hyperparameter tables (Markdown)")
    args = parser.parse_args(argv)

    if args.command == "hyperparameters":
        from .config import hyperparameter_tables

        print(hyperparameter_tables())
        return
    if args.command == "download":
        _download(args.name, args.directory)
        return
    base_dir = args.base_dir.resolve()
    lay_out_job(base_dir, dict(args.hyperparameters), dict(args.channel))
    if args.checkpoints:
        (base_dir / "checkpoints").mkdir(exist_ok=True)
    env = {**os.environ, "SAGEMAKER_BASE_DIR": str(base_dir), "SAGEMAKER_TRAINING_MODULE": TRAINING_MODULE}
    code = subprocess.call([str(Path(sys.executable).parent / "train")], env=env)
    outcome = "succeeded" if code == 0 else f"failed (exit {code}); reason in {base_dir / 'output' / 'failure'}"
    print(f"\njob {outcome}\n  model:   {base_dir / 'model'}\n  outputs: {base_dir / 'output' / 'data'}")
    sys.exit(code)
