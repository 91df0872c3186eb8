"""Download files with a SHA-256 check and progress lines fit for CloudWatch."""
import hashlib
import logging
import os
import shutil
import tempfile
import urllib.request
from pathlib import Path

logger = logging.getLogger(__name__)


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(url: str, path: Path, expected_sha256: str, timeout: float = 30.0) -> Path:
    """Fetch ``url`` to ``path`` unless a file with the expected checksum is already there.

    Writes to a temporary file and renames it, so an interrupted download leaves nothing.
    Raises ``OSError`` on network failure or ``ValueError`` on a checksum mismatch.
    """
    path = Path(path)
    if path.exists() and sha256(path) == expected_sha256:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    logger.info("downloading %s", url)
    with urllib.request.urlopen(url, timeout=timeout) as response:
        total = int(response.headers.get("Content-Length") or 0)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
            copied, next_report = 0, 0.25
            for chunk in iter(lambda: response.read(1 << 20), b""):
                tmp.write(chunk)
                copied += len(chunk)
                if total and copied / total >= next_report:
                    logger.info("downloaded %d%% of %s (%d bytes)", 100 * copied // total, path.name, total)
                    next_report += 0.25
    actual = sha256(Path(tmp.name))
    if actual != expected_sha256:
        os.unlink(tmp.name)
        raise ValueError(f"{url}: checksum mismatch (sha256 {actual}, expected {expected_sha256})")
    shutil.move(tmp.name, path)
    return path
