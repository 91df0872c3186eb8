"""SIGTERM and SIGINT: every stop leaves a reason.

SageMaker (and ``docker stop``) sends SIGTERM; Ctrl-C on ``docker run -it`` sends SIGINT. From
the first line of the ``train`` command, :func:`stop_signals` turns either into
:class:`~sagemaker_dgl.errors.JobInterrupted`, which the toolkit writes to the failure file; the
command then exits 128 + the signal number (143, 130). A user script started by the toolkit
(script mode) gets the signal forwarded. An exception raised by a signal handler can be lost (the
``logging`` module swallows one raised while it writes a line), and one raised inside an import
can cross C++ code (torch's extension imports Python modules from C++, and pybind11 aborts the
process on it), so the handler only records a stop that lands during an import, and the job
calls :func:`check` between its stages. The module imports nothing slow (``logging`` and the
toolkit's errors are imported when first needed), so that ``train`` installs its handlers within
milliseconds of the interpreter starting. Inside the training loop a stop is instead one flag
(:func:`stop_flag`) that the loop checks after each epoch, to save a checkpoint first.
"""
import signal
import sys
import threading
from contextlib import contextmanager
from typing import Iterator, Optional

#: The stop signal received since :func:`stop_signals` began, if any.
received: Optional[int] = None


def _forward_to_children(signum: int) -> None:
    """Pass the signal on to child processes (a script-mode user script).

    Only the toolkit starts children, after it has imported ``psutil``. The handler never imports
    it: a signal that lands while ``psutil`` is being imported would get a circular-import error
    in place of the stop. A half-imported ``psutil`` means no children yet, so any error is ignored.
    """
    psutil = sys.modules.get("psutil")
    if psutil is None:
        return
    try:
        children = psutil.Process().children(recursive=True)
    except Exception:  # noqa: BLE001 - psutil half imported: no child has been started
        return
    for child in children:
        try:
            child.send_signal(signum)
        except psutil.Error:
            pass


def _importing(frame) -> bool:
    """Whether ``frame`` runs inside an ``import`` (a frame of importlib's bootstrap is on the stack)."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib._bootstrap"):
            return True
        frame = frame.f_back
    return False


@contextmanager
def stop_signals() -> Iterator[None]:
    """Within the block, SIGTERM and SIGINT raise :class:`JobInterrupted` (and are remembered in
    :data:`received`); the previous handlers are restored after."""
    global received
    received = None

    def handler(signum, frame):
        global received
        received = signum
        _forward_to_children(signum)
        if not _importing(frame):
            check()

    previous = {signum: signal.signal(signum, handler) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def name(signum: int) -> str:
    """``'SIGTERM'``, or ``'SIGINT (Ctrl-C)'``."""
    return signal.Signals(signum).name + (" (Ctrl-C)" if signum == signal.SIGINT else "")


def check() -> None:
    """Raise :class:`JobInterrupted` if a stop signal arrived outside the training loop."""
    if received is not None:
        from .errors import JobInterrupted

        raise JobInterrupted(
            f"stopped by {name(received)} outside the training loop (during start-up, data loading, evaluation, "
            "saving or a user script): no checkpoint was written for this stop; start the job again"
        )


@contextmanager
def stop_flag() -> Iterator[threading.Event]:
    """An event set by SIGTERM or SIGINT while the block runs (the previous handlers are restored after)."""
    event = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield event
        return

    def handler(signum, frame):
        global received
        received = signum
        event.set()

    previous = {signum: signal.signal(signum, handler) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield event
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
        if event.is_set():
            import logging

            logging.getLogger(__name__).warning("%s received: stopped after the running epoch", name(received))
