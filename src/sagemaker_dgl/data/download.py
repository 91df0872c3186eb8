"""Download files with a SHA-256 check and progress lines fit for CloudWatch; extract archives."""
import hashlib
import logging
import os
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path
from typing import Iterable, List, Optional

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


def extract_flat(archive: Path, directory: Path, names: Optional[Iterable[str]] = None) -> List[str]:
    """Write the files of a zip or tar archive into ``directory`` by their base names (never
    outside it; folders and ``__MACOSX`` entries skipped); only ``names`` when given, each of
    which must be there (``ValueError`` otherwise). Returns the names written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as handle:
            members = {Path(m.filename).name: m for m in handle.infolist()
                       if not m.is_dir() and not m.filename.startswith("__MACOSX") and Path(m.filename).name}
            return _write_members(members, handle.read, directory, names, archive)
    with tarfile.open(archive) as handle:
        members = {Path(m.name).name: m for m in handle.getmembers() if m.isfile()}
        return _write_members(members, lambda m: handle.extractfile(m).read(), directory, names, archive)


def _write_members(members, read, directory: Path, names, archive: Path) -> List[str]:
    wanted = list(members) if names is None else list(names)
    for name in wanted:
        if name not in members:
            raise ValueError(f"{archive.name} has no {name}")
        (directory / name).write_bytes(read(members[name]))
    return wanted
