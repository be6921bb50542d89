"""Container images, built here for real: Debian's buildah (as root, without a daemon, with
its `chroot` isolation and `vfs` storage, set through its environment so that a page's
command runs as written), and a base image made from Debian's packages with debootstrap,
since no public registry is reachable from this machine. The tests build with it, and so
does the pipeline runner's Docker@2 (pipeline/tasks.py)."""

import fcntl
import gzip
import hashlib
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

# Debian 12's Python (3.11), what the image's final stage runs on.
BASE_PYTHON = "3.11"
BASE_IMAGE = "localhost/copier-uv-azure-base:bookworm-python3"
# The name the Dockerfile's default base image has: what a machine that pulled it holds.
PULLED_AS = f"docker.io/library/python:{BASE_PYTHON}-slim-bookworm"


def needs_buildah() -> None:
    """What this machine lacks to build images, named (a test fails, never skips, on it)."""
    missing = [tool for tool in ("buildah", "debootstrap") if shutil.which(tool) is None]
    if missing or os.geteuid() != 0:
        raise RuntimeError(
            f"building images here needs root and {', '.join(missing) or 'buildah'}: "
            "apt-get install buildah debootstrap (.ci/run does it)"
        )


def buildah_env() -> dict[str, str]:
    """buildah's settings for this machine: vfs storage (no overlay mounts here), chroot
    isolation (no user namespaces)."""
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    conf = CACHE_ROOT / "buildah-storage.conf"
    conf.write_text(
        '[storage]\ndriver = "vfs"\nrunroot = "/run/containers/storage"\n'
        'graphroot = "/var/lib/containers/storage"\n'
    )
    return {**os.environ, "CONTAINERS_STORAGE_CONF": str(conf), "BUILDAH_ISOLATION": "chroot"}


def buildah(*args: str, check: bool = True, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["buildah", *args], capture_output=True, text=True, timeout=COMMAND_TIMEOUT,
        check=check, cwd=cwd, env=buildah_env(),
    )  # fmt: skip


@contextmanager
def storage() -> Iterator[None]:
    """buildah's storage to one test worker at a time: a build's first stage is an image
    without a name until the build ends, and the clean-up after a build removes such images."""
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    with open(CACHE_ROOT / "buildah.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def base_image() -> None:
    """A minimal Debian with Python, made once per machine (about a minute), kept in
    buildah's storage."""
    needs_buildah()
    if buildah("inspect", "--type", "image", BASE_IMAGE, check=False).returncode == 0:
        return
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


def trusting(ca_file: Path) -> str:
    """The base image, trusting one more certificate authority (as a company's own base
    image trusts its CA): a local image, made once per CA."""
    digest = hashlib.sha256(ca_file.read_bytes()).hexdigest()[:16]
    name = f"localhost/copier-uv-azure-base:ca-{digest}"
    if buildah("inspect", "--type", "image", name, check=False).returncode == 0:
        return name
    container = buildah("from", BASE_IMAGE).stdout.strip()
    buildah("copy", container, str(ca_file), "/usr/local/share/ca-certificates/tests.crt")
    buildah("run", container, "--", "update-ca-certificates")
    buildah("commit", "--quiet", container, name)
    buildah("rm", container)
    return name


def build(
    command: list[str], context: Path, tag: str, ca_file: Path | None = None
) -> subprocess.CompletedProcess:
    """`command` (a `buildah bud` line, as a page gives it) run in `context`, with the
    Dockerfile's default base image being this machine's (trusting `ca_file`, if given); the
    image it names with `--tag` is renamed `tag`, and the build's unnamed stages are removed
    (with vfs, each image is a whole copy of its files)."""
    with storage():
        base_image()
        buildah("tag", trusting(ca_file) if ca_file else BASE_IMAGE, PULLED_AS)
        built = buildah(*command[1:], check=False, cwd=context)
        if built.returncode == 0:
            named = command[command.index("--tag") + 1]
            if named != tag:
                buildah("tag", named, tag)
                buildah("rmi", named)
        buildah("rmi", "--prune", check=False)
    return built


def push(tag: str, destination: Path) -> subprocess.CompletedProcess:
    """The image, written out as a registry keeps it (a `dir:` layout)."""
    destination.mkdir(parents=True, exist_ok=True)
    return buildah("push", "--quiet", tag, f"dir:{destination}", check=False)


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
        return buildah("run", container, "--", *command, check=False)
    finally:
        buildah("rm", container)


def image_bytes(tag: str, folder: Path) -> dict[str, bytes]:
    """Everything the image is, by file: each layer (unpacked), its config (settings and
    history) and its manifest, as `buildah push` writes them out."""
    push(tag, folder).check_returncode()
    return layout_bytes(folder)


def layout_bytes(folder: Path) -> dict[str, bytes]:
    """The files of an image written out by `push`, the layers unpacked."""
    found = {}
    for path in sorted(folder.iterdir()):
        data = path.read_bytes()
        found[path.name] = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    return found
