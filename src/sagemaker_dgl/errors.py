"""Errors that fail a job with a reason the user can act on.

They subclass the toolkit's ``ClientError``, so the toolkit writes ``str(error)`` alone (no
traceback) to ``/opt/ml/output/failure``, which SageMaker shows as ``FailureReason``
(first 1024 characters).
"""
from sagemaker_training.errors import ClientError


class SageMakerDGLError(ClientError):
    """A job failure caused by the job's input, not by this package. Its message is cut to fit
    SageMaker's 1024-character ``FailureReason``."""

    MAX_LENGTH = 1000

    def __str__(self) -> str:
        message = super().__str__()
        return message if len(message) <= self.MAX_LENGTH else message[: self.MAX_LENGTH - 4] + " ..."


class ConfigError(SageMakerDGLError):
    """A hyperparameter or configuration file is missing, malformed or out of range."""


class ChannelError(SageMakerDGLError):
    """A data channel is missing, empty or cannot be reached."""


class DataFormatError(SageMakerDGLError):
    """A data file is corrupt, truncated or inconsistent."""


class IncompatibleTaskError(SageMakerDGLError):
    """The chosen model, task and dataset do not fit together."""


class TrainingDivergedError(SageMakerDGLError):
    """The loss became NaN or infinite."""


class OutputError(SageMakerDGLError):
    """The model, a checkpoint or an output could not be written (a full disk, for example)."""


class UnexpectedError(SageMakerDGLError):
    """An error this package did not foresee: its own message first (the traceback is in the log)."""


class JobInterrupted(SageMakerDGLError):
    """SIGTERM arrived (for example a managed spot interruption); a checkpoint was saved."""

    errno = 143
