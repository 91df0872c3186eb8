"""Command-line tools.

- ``train``: the container's command. From its first line SIGTERM and SIGINT leave a reason
  (:mod:`.signals`). It checks that the ``/opt/ml/input/config`` files are valid JSON (the
  toolkit would otherwise fail with a bare traceback) and that the output, model and checkpoint
  folders are writable, then runs the toolkit's trainer, which calls
  ``$SAGEMAKER_TRAINING_MODULE`` (``sagemaker_dgl.training:main``). Its exit status is never 0
  without a success file: 1 for a failure, 128 + the signal for a stop (SIGTERM 143, SIGINT 130).
- ``sagemaker-dgl local``: lay out an ``/opt/ml``-shaped folder from hyperparameters and
  channel folders, and run a job in it exactly as the container would.
- ``sagemaker-dgl download NAME DIR``: fetch a named dataset (checksummed) into a folder that can
  be passed as channel ``train``.
- ``sagemaker-dgl hyperparameters``: print the hyperparameter tables (Markdown).

The module imports only what ``train`` needs before its stop handlers are in place (a stop in
the first tenth of a second must leave a reason too); the other modules are imported where used.
"""
import os
import sys
from pathlib import Path
from typing import List, Optional

from . import signals

CONFIG_FILES = ("hyperparameters.json", "inputdataconfig.json", "resourceconfig.json")
TRAINING_MODULE = "sagemaker_dgl.training:main"


def train() -> None:
    """Console script ``train``: the toolkit's trainer, with the checks and exit codes above."""
    base_dir = Path(os.environ.get("SAGEMAKER_BASE_DIR", "/opt/ml"))
    output_dir = base_dir / "output"
    code = 1
    with signals.stop_signals():
        from .errors import JobInterrupted

        try:
            code = _run_toolkit(base_dir)
        except JobInterrupted as error:  # a stop before the toolkit's own error handling began
            _report_failure(output_dir, str(error))
    if signals.received is not None:
        code = 128 + signals.received
        _report_stop(output_dir, signals.name(signals.received))
    elif code == 0 and not (output_dir / "success").is_file():
        print(f"ERROR: the job ended without writing {output_dir / 'success'}; treating it as failed", file=sys.stderr)
        code = 1
    sys.exit(code)


def _run_toolkit(base_dir: Path) -> int:
    """Run the toolkit's trainer after the checks; returns its exit status."""
    os.environ.setdefault("SAGEMAKER_TRAINING_MODULE", TRAINING_MODULE)
    output_dir = base_dir / "output"
    for name in ("failure", "success"):  # left by an earlier run in the same folder (a resumed job)
        if (output_dir / name).is_file():
            (output_dir / name).unlink()
    problem = _unwritable(output_dir)
    if problem:
        print(f"ERROR: {problem}; the job cannot report its outcome there, so it does not start", file=sys.stderr)
        return 1
    problem = _config_problem(base_dir / "input" / "config") or _unwritable(base_dir / "model") or _unwritable(
        output_dir / "data")
    if not problem and (base_dir / "checkpoints").exists():
        problem = _unwritable(base_dir / "checkpoints")
    if problem:
        _report_failure(output_dir, problem)
        return 1
    from sagemaker_training import trainer

    try:
        trainer.train()
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else 1
    return 0


def _unwritable(directory: Path) -> Optional[str]:
    """Why ``directory`` cannot take files (created when missing), or None."""
    import tempfile

    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as error:
        return f"{directory} is not a writable folder ({error.strerror or error})"
    return None


def _report_failure(output_dir: Path, reason: str) -> None:
    """The reason on stderr and, when it can be written, in ``output/failure`` (first writer wins)."""
    print(f"ERROR: {reason}", file=sys.stderr)
    path = output_dir / "failure"
    try:
        if not path.exists():
            path.write_text(reason[:1024])
    except OSError as error:
        print(f"ERROR: could not write {path} ({error})", file=sys.stderr)


def _report_stop(output_dir: Path, signal_name: str) -> None:
    """After a stop, ``output/failure`` states it: an error the stop caused in the toolkit (an
    import it interrupted fails again with "cannot load module more than once") gives way to it."""
    path = output_dir / "failure"
    if (output_dir / "success").is_file() or (path.is_file() and "stopped by" in path.read_text(errors="replace")):
        return
    path.unlink(missing_ok=True)
    _report_failure(output_dir, f"stopped by {signal_name} during start-up, before training began")


def _config_problem(config_dir: Path) -> Optional[str]:
    """A one-line description of the first missing or malformed config file, else None."""
    import json

    for name in CONFIG_FILES:
        path = config_dir / name
        if not path.exists():
            return (f"{path} is missing; SageMaker writes it for every job (hyperparameters.json is {{}} for a job "
                    "without hyperparameters), and a local run must provide it")
        try:
            value = json.loads(path.read_text())
        except ValueError as error:
            return f"{path} is not valid JSON ({error}); it must be one JSON object of string values"
        if not isinstance(value, dict):
            return f"{path} must hold a JSON object, not {type(value).__name__}"
    return None


#: Written into a folder that ``lay_out_job`` laid out: the only kind it empties again.
LAYOUT_MARKER = ".sagemaker-dgl-local"


class LayoutError(Exception):
    """``sagemaker-dgl local`` refuses to touch a folder or a channel."""


def lay_out_job(base_dir: Path, hyperparameters: dict, channels: dict, host: str = "localhost",
                copy_channels: bool = False, force: bool = False) -> None:
    """Write an ``/opt/ml``-shaped tree under ``base_dir`` as SageMaker would for one instance.

    Hyperparameter values are JSON-encoded strings, as the SageMaker SDK sends them. Channels are
    symbolic links to the given folders, or copies with ``copy_channels`` (a link does not resolve
    inside a container that mounts ``base_dir``). The one host defaults to ``localhost``: the
    toolkit waits until every host name resolves before it starts a user script, and ``algo-1``
    resolves only inside SageMaker's (or local mode's) container network.

    It only replaces what it laid out: ``input``, ``model`` and ``output`` of a folder that holds
    its marker file; ``checkpoints`` is kept so that a stopped job can resume. It refuses (with
    :class:`LayoutError`) a non-empty folder without the marker unless ``force``, a channel
    folder that does not exist, and a channel that lies inside ``base_dir`` (it would be deleted).
    """
    import json
    import shutil

    base_dir = Path(base_dir).resolve()
    sources = {name: Path(source).resolve() for name, source in channels.items()}
    for name, source in sources.items():
        if not source.is_dir():
            raise LayoutError(f"channel {name!r}: {channels[name]} is not a folder")
        if source == base_dir or base_dir in source.parents:
            raise LayoutError(f"channel {name!r}: {channels[name]} lies inside the job folder {base_dir}, whose "
                              "input, model and output are replaced; move the data out or choose another --base-dir")
    if base_dir.exists() and not (base_dir / LAYOUT_MARKER).is_file() and any(base_dir.iterdir()) and not force:
        raise LayoutError(f"{base_dir} is not empty and was not laid out by sagemaker-dgl local; its input, model "
                          "and output folders would be replaced. Choose an empty or new --base-dir, or pass --force")
    for name in ("input", "model", "output"):
        shutil.rmtree(base_dir / name, ignore_errors=True)
    config = base_dir / "input" / "config"
    config.mkdir(parents=True)
    (base_dir / LAYOUT_MARKER).write_text("laid out by sagemaker-dgl local; it may replace input, model, output\n")
    (base_dir / "model").mkdir()
    (base_dir / "output" / "data").mkdir(parents=True)
    encoded = {key: value if isinstance(value, str) else json.dumps(value) for key, value in hyperparameters.items()}
    (config / "hyperparameters.json").write_text(json.dumps(encoded, indent=2))
    input_config = {name: {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated"} for name in channels}
    (config / "inputdataconfig.json").write_text(json.dumps(input_config, indent=2))
    resources = {"current_host": host, "hosts": [host], "network_interface_name": "eth0"}
    (config / "resourceconfig.json").write_text(json.dumps(resources, indent=2))
    for name, source in sources.items():
        channel = base_dir / "input" / "data" / name
        channel.parent.mkdir(parents=True, exist_ok=True)
        if copy_channels:
            shutil.copytree(source, channel)
        else:
            channel.symlink_to(source, target_is_directory=True)


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
    import argparse

    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def main(argv: Optional[List[str]] = None) -> None:
    """Console script ``sagemaker-dgl``."""
    import argparse
    import subprocess

    parser = argparse.ArgumentParser(prog="sagemaker-dgl", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    local = commands.add_parser("local", help="run a training job in a local /opt/ml-shaped folder")
    local.add_argument("hyperparameters", nargs="*", type=_key_value, metavar="KEY=VALUE",
                       help="hyperparameters, e.g. model=gat epochs=100")
    local.add_argument("--channel", action="append", type=_key_value, default=[], metavar="NAME=DIR",
                       help="data channel folder, e.g. --channel train=data/cora (repeatable)")
    local.add_argument("--base-dir", type=Path, default=Path("build/opt_ml"), help="job folder (default: %(default)s)")
    local.add_argument("--checkpoints", action="store_true", help="create <base-dir>/checkpoints (enables resuming)")
    local.add_argument("--force", action="store_true",
                       help="lay out a non-empty folder that sagemaker-dgl local did not create (replaces its "
                            "input, model and output)")
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
    try:
        lay_out_job(base_dir, dict(args.hyperparameters), dict(args.channel), force=args.force)
    except LayoutError as error:
        parser.exit(2, f"sagemaker-dgl local: error: {error}\n")
    if args.checkpoints:
        (base_dir / "checkpoints").mkdir(exist_ok=True)
    env = {**os.environ, "SAGEMAKER_BASE_DIR": str(base_dir), "SAGEMAKER_TRAINING_MODULE": TRAINING_MODULE}
    code = subprocess.call([str(Path(sys.executable).parent / "train")], env=env)
    outcome = "succeeded" if code == 0 else f"failed (exit {code}); reason in {base_dir / 'output' / 'failure'}"
    print(f"\njob {outcome}\n  model:   {base_dir / 'model'}\n  outputs: {base_dir / 'output' / 'data'}")
    sys.exit(code)
