"""Run a child process and measure it: wall time, peak RSS, CPU time, and CPU used by others meanwhile.

Shared by the benchmarks in this folder; standard library only.
"""
import os
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _busy_seconds() -> float:
    """CPU seconds spent busy by the whole machine so far (all cores), from /proc/stat."""
    with open("/proc/stat") as handle:
        fields = [int(x) for x in handle.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


@dataclass
class RunResult:
    """What :func:`run_measured` saw of one child process."""

    command: List[str]
    returncode: int
    launched: float  # Unix time just before the child was started
    elapsed: float  # seconds until it exited
    max_rss_mib: float  # peak resident set of the child or its largest waited-for descendant
    cpu_seconds: float  # user + system time of the child and its waited-for descendants
    others_cores: float  # average cores used by other processes on the machine while it ran
    load_before: float  # 1-minute load average when it started
    lines: List[str] = field(default_factory=list)
    arrivals: List[float] = field(default_factory=list)  # Unix time each line was read


def run_measured(command: List[str], log_path: Optional[Path] = None, env: Optional[Dict[str, str]] = None,
                 cwd: Optional[Path] = None, on_line: Optional[Callable[[str], None]] = None) -> RunResult:
    """Run ``command`` with stdout and stderr merged, keeping every line and when it arrived.

    Peak RSS and CPU time come from ``wait4`` on the child, so they cover the child and every
    descendant it waited for (``sagemaker-dgl local`` waits for ``train``), not this process.
    """
    load_before = os.getloadavg()[0]
    busy_before = _busy_seconds()
    launched = time.time()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                               text=True, bufsize=1)
    lines, arrivals = [], []
    for line in process.stdout:
        arrivals.append(time.time())
        lines.append(line.rstrip("\n"))
        if on_line:
            on_line(line.rstrip("\n"))
    process.stdout.close()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.time() - launched
    busy = _busy_seconds() - busy_before
    cpu = usage.ru_utime + usage.ru_stime
    if log_path:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text("\n".join(lines) + "\n")
    return RunResult(
        command=[str(c) for c in command],
        returncode=process.returncode,
        launched=launched,
        elapsed=elapsed,
        max_rss_mib=usage.ru_maxrss / 1024.0,
        cpu_seconds=cpu,
        others_cores=max(0.0, busy - cpu) / max(elapsed, 1e-9),
        load_before=load_before,
        lines=lines,
        arrivals=arrivals,
    )


def machine_facts() -> Dict[str, object]:
    """CPU model, cores, memory and kernel of this machine."""
    facts: Dict[str, object] = {"cores": os.cpu_count()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                facts["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                facts["memory_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    facts["kernel"] = os.uname().release
    return facts


def busy_cores(window: float = 2.0) -> float:
    """Cores kept busy by all processes over the next ``window`` seconds (call it while idle yourself)."""
    before = _busy_seconds()
    time.sleep(window)
    return (_busy_seconds() - before) / window


def wait_for_quiet(max_busy: Optional[float], timeout: float = 600.0) -> float:
    """Wait (up to ``timeout`` s) until other processes keep fewer than ``max_busy`` cores busy.

    Returns the last measurement; ``max_busy=None`` only measures once.
    """
    busy = busy_cores()
    deadline = time.time() + timeout
    while max_busy is not None and busy >= max_busy and time.time() < deadline:
        busy = busy_cores()
    return busy


def add_quiet_arguments(parser) -> None:
    """The options :func:`run_quietly` reads: ``--max-busy``, ``--retries``, ``--quiet-timeout``."""
    parser.add_argument("--max-busy", type=float,
                        help="before each run, wait until other processes keep fewer than this many cores busy; "
                        "run again (see --retries) when they used more while it ran")
    parser.add_argument("--retries", type=int, default=2, help="extra attempts for a run disturbed by others")
    parser.add_argument("--quiet-timeout", type=float, default=300.0, help="longest wait for quiet, seconds")


def run_quietly(command: List[str], tag: str, log_dir: Path, args, env: Optional[Dict[str, str]] = None,
                cwd: Optional[Path] = None):
    """Run ``command`` after waiting for a quiet machine, again (up to ``args.retries`` times) when
    other processes used ``args.max_busy`` cores or more meanwhile; exit with its log's tail if it
    fails. Returns the last result, the busy cores before it and each attempt's others' cores."""
    attempts = []
    for _ in range(1 + args.retries):
        busy_before = wait_for_quiet(args.max_busy, timeout=args.quiet_timeout)
        result = run_measured(command, log_path=log_dir / f"{tag}.log", env=env, cwd=cwd)
        attempts.append(round(result.others_cores, 3))
        if args.max_busy is None or result.others_cores < args.max_busy or result.returncode != 0:
            break
        print(f"  {tag}: other processes used {result.others_cores:.2f} cores meanwhile; running it again", flush=True)
    if result.returncode != 0:
        raise SystemExit(f"{tag} failed (exit {result.returncode}); see {log_dir / f'{tag}.log'}:\n"
                         + "\n".join(result.lines[-20:]))
    return result, busy_before, attempts


def median_or_none(values) -> Optional[float]:
    """The median of the values that are not None; None when there are none."""
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value: Optional[float], digits: int = 1) -> str:
    """A number for a Markdown table, or '-' for None."""
    return "-" if value is None else f"{value:.{digits}f}"
