"""Put the pipeline's uv (UV_VERSION) first on PATH for the job's later steps.

It lives in PIPELINE_UV_DIR: a restored cache (Microsoft-hosted agents) or the agent's own
disk (self-hosted pools) usually has it, and then nothing is downloaded. Otherwise pip
installs exactly that version from the feed (PIP_INDEX_URL) into the folder.

This file belongs to the copier-uv-azure template: `copier update` brings its fixes.
"""

import os
import subprocess
import sys
from pathlib import Path


def installed(folder: Path, version: str) -> Path | None:
    """The folder holding a uv binary of `version` ("bin" on Linux and macOS, "Scripts" on
    Windows, as pip lays out --target), or None."""
    for scripts in ("bin", "Scripts"):
        for name in ("uv", "uv.exe"):
            binary = folder / scripts / name
            if not binary.is_file():
                continue
            answer = subprocess.run([binary, "--version"], capture_output=True, text=True)
            if answer.returncode == 0 and answer.stdout.split()[1:2] == [version]:
                return binary.parent
    return None


def main() -> int:
    version = os.environ["UV_VERSION"]
    folder = Path(os.environ["PIPELINE_UV_DIR"])
    found = installed(folder, version)
    if found is not None:
        print(f"uv {version} is already in {folder}: nothing to download.")
    else:
        pip = [sys.executable, "-m", "pip", "install", "--upgrade", "--target", str(folder)]
        if subprocess.run([*pip, f"uv=={version}"]).returncode != 0:
            print(f"##[error]pip could not install uv {version} from the feed (see above).")
            return 1
        found = installed(folder, version)
        if found is None:
            print(f"##[error]pip installed no uv {version} binary in {folder}.")
            return 1
    # A logging command: the agent puts the folder first on PATH for the later steps.
    print(f"##vso[task.prependpath]{found}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
