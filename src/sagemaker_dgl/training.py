"""Entry point of the container: ``SAGEMAKER_TRAINING_MODULE=sagemaker_dgl.training:main``.

The toolkit's ``train`` command calls :func:`main`. A job that names a user script
(``sagemaker_program`` hyperparameter or ``SAGEMAKER_PROGRAM``) runs that script, as AWS's
PyTorch container does; any other job runs the built-in trainer (:mod:`sagemaker_dgl.job`).
"""
import errno
import logging
from pathlib import Path

from sagemaker_training import entry_point, environment
from sagemaker_training.errors import ClientError

from . import signals
from .artifacts import disk_full_error
from .errors import ConfigError, UnexpectedError

logger = logging.getLogger(__name__)
#: Room in the 1024 characters of SageMaker's FailureReason for an unexpected error's message.
MESSAGE_ROOM = 800


def main() -> None:
    """Read the job from ``/opt/ml`` (or ``$SAGEMAKER_BASE_DIR``) and run it.

    An error this package did not foresee keeps its traceback in the log; the failure file gets
    its own message first (SageMaker shows only the first 1024 characters).
    """
    try:
        train(environment.Environment())
    except ClientError:
        raise
    except Exception as error:
        # An error while a stop is pending comes from the stop: Python may wrap the stop's exception
        # (in a RuntimeError when it interrupts a class definition, for example during an import).
        signals.check()
        logger.exception("unexpected error")
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            raise disk_full_error(Path(error.filename or ".").parent, error) from error
        raise UnexpectedError(f"{type(error).__name__}: {error}"[:MESSAGE_ROOM]
                              + " (an unexpected error; the log has the traceback)") from error


def train(env: environment.Environment) -> None:
    """Run the job described by ``env``: the user's script (script mode) or the built-in trainer."""
    signals.check()  # a stop during the imports so far was only recorded
    _check_input_modes(env.input_data_config)
    if env.user_entry_point:
        _check_script(env.module_dir, env.user_entry_point)
        if env.current_host not in env.hosts:
            raise ConfigError(f"current_host {env.current_host!r} is not among the hosts {env.hosts} of "
                              "resourceconfig.json; the toolkit would wait for it to resolve")
        logger.info("waiting until the host names %s resolve (the toolkit's check before a user script)", env.hosts)
        entry_point.run(
            uri=env.module_dir,
            user_entry_point=env.user_entry_point,
            args=env.to_cmd_args(),
            env_vars=env.to_env_vars(),
            capture_error=True,
        )
    else:
        from .job import run_builtin

        signals.check()
        run_builtin(env)



def _check_script(submit_dir: str, script: str) -> None:
    """A local submit directory must exist and hold the script (the toolkit would fail with exit code 2
    and no message)."""
    if "://" in submit_dir and not submit_dir.startswith("file://"):
        return  # s3://: the toolkit downloads it
    folder = Path(submit_dir.removeprefix("file://"))
    if not folder.exists():
        raise ConfigError(f"sagemaker_submit_directory {submit_dir} does not exist; give the folder (or .tar.gz) "
                          f"that holds {script}")
    if folder.is_dir() and not (folder / script).is_file():
        found = sorted(p.name for p in folder.iterdir())[:10]
        raise ConfigError(f"script {script!r} (sagemaker_program) is not in {submit_dir}; it holds {found}")


def _check_input_modes(input_data_config) -> None:
    """Channels must be files on disk (File or FastFile input mode)."""
    for channel, config in input_data_config.items():
        mode = config.get("TrainingInputMode", "File")
        if mode not in ("File", "FastFile"):
            raise ConfigError(f"channel {channel!r} uses input mode {mode}, which this image does not read; use "
                              "input_mode='File' (or 'FastFile') in the Estimator or TrainingInput")
