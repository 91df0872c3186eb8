"""Entry point of the container: ``SAGEMAKER_TRAINING_MODULE=sagemaker_dgl.training:main``.

The toolkit's ``train`` command calls :func:`main`. A job that names a user script
(``sagemaker_program`` hyperparameter or ``SAGEMAKER_PROGRAM``) runs that script, as AWS's
PyTorch container does; any other job runs the built-in trainer (:mod:`sagemaker_dgl.job`).
"""
import os

from sagemaker_training import entry_point, environment


def main() -> None:
    """Read the job from ``/opt/ml`` (or ``$SAGEMAKER_BASE_DIR``) and run it."""
    train(environment.Environment())


def train(env: environment.Environment) -> None:
    """Run the job described by ``env``: the user's script (script mode) or the built-in trainer."""
    _remove_stale_outcome(env.output_dir)
    if env.user_entry_point:
        entry_point.run(
            uri=env.module_dir,
            user_entry_point=env.user_entry_point,
            args=env.to_cmd_args(),
            env_vars=env.to_env_vars(),
            capture_error=True,
        )
    else:
        from .job import run_builtin

        run_builtin(env)


def _remove_stale_outcome(output_dir: str) -> None:
    """Drop ``failure``/``success`` left by an earlier run in the same folder (a resumed job)."""
    for name in ("failure", "success"):
        path = os.path.join(output_dir, name)
        if os.path.exists(path):
            os.remove(path)
