"""Container images, built here for real: Debian's buildah (`bud --isolation chroot
--storage-driver vfs`, as root, without a daemon), and a base image made from Debian's
packages with debootstrap, since no public registry is reachable from this machine."""

import fcntl
import gzip
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from azure_standins import COMMAND_TIMEOUT
from azure_standins.wheelhouse import CACHE_ROOT

BUILDAH = ("buildah", "--storage-driver", "vfs")
# Debian 12's Python (3.11), what the image's final stage runs on.
BASE_IMAGE = "localhost/copier-uv-azure-base:bookworm-python3"
BASE_PYTHON = "3.11"


def needs_buildah() -> None:
    """What this machine lacks to build images, named (a test fails, never skips, on it)."""
    missing = [tool for tool in ("buildah", "debootstrap") if shutil.which(tool) is None]
    if missing or os.geteuid() != 0:
        raise RuntimeError(
            f"building images here needs root and {', '.join(missing) or 'buildah'}: "
            "apt-get install buildah debootstrap (.ci/run does it)"
        )


def buildah(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*BUILDAH, *args], capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=check
    )


@contextmanager
def storage() -> Iterator[None]:
    """buildah's storage to one test worker at a time: a build's first stage is an image
    without a name until the build ends, and the clean-up after a build removes such images."""
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    with open(CACHE_ROOT / "buildah.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def base_image() -> str:
    """A minimal Debian with Python, made once per machine (about a minute) and kept in
    buildah's storage."""
    needs_buildah()
    if buildah("inspect", "--type", "image", BASE_IMAGE, check=False).returncode == 0:
        return BASE_IMAGE
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "rootfs"
        subprocess.run(
            ["debootstrap", "--variant=minbase", "--include=python3,python3-venv",
             "bookworm", str(root)],
            capture_output=True, check=True, timeout=COMMAND_TIMEOUT,
        )  # fmt: skip
        container = buildah("from", "scratch").stdout.strip()
        buildah("copy", container, str(root), "/")
        buildah("commit", "--quiet", container, BASE_IMAGE)
        buildah("rm", container)
    return BASE_IMAGE


def build(context: Path, tag: str, secret: Path, *args: str) -> subprocess.CompletedProcess:
    """`buildah bud` of the context's Dockerfile, with the feed's token as the build secret
    azure-artifacts, from the local base image; the build's unnamed stages are removed
    after it (with vfs, each image is a whole copy of its files)."""
    with storage():
        built = buildah(
            "bud", "--isolation", "chroot", "--secret", f"id=azure-artifacts,src={secret}",
            "--build-arg", f"BASE_IMAGE={base_image()}", "--tag", tag, *args, str(context),
            check=False,
        )  # fmt: skip
        buildah("rmi", "--prune", check=False)
    return built


def remove(tag: str) -> None:
    with storage():
        buildah("rmi", "--force", tag, check=False)


def run(tag: str, *command: str) -> subprocess.CompletedProcess:
    """The image's command (or `command`), as its user, in a container removed afterwards."""
    container = buildah("from", tag).stdout.strip()
    try:
        if not command:
            image = json.loads(buildah("inspect", "--type", "image", tag).stdout)
            command = tuple(image["OCIv1"]["config"]["Cmd"])
        return buildah("run", "--isolation", "chroot", container, "--", *command, check=False)
    finally:
        buildah("rm", container)


def image_bytes(tag: str, folder: Path) -> dict[str, bytes]:
    """Everything the image is, by file: each layer (unpacked), its config (settings and
    history) and its manifest, as `buildah push` writes them out."""
    buildah("push", "--quiet", tag, f"dir:{folder}")
    found = {}
    for path in sorted(folder.iterdir()):
        data = path.read_bytes()
        found[path.name] = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    return found
