"""How long does `copier copy` of this template take, against a one-file template?

Runs Copier's command line (as users do, a new Python process each time) on the template
with the example answers, and on a template of one question and one file, alternately, and
prints the median of each and their ratio. Copier's own start-up is in both; the ratio is
what this template's questions and files add.

    uv run python -m benchmarks.render_time [--repeat 5]
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from azure_standins import COMMAND_TIMEOUT
from azure_standins.template_facts import EXAMPLE_ANSWERS
from tests.rendering import copy_template, data_args


def one_file_template(root: Path) -> Path:
    (root / "template").mkdir(parents=True)
    (root / "copier.yml").write_text("_subdirectory: template\nname:\n  type: str\n  default: x\n")
    (root / "template/README.md.jinja").write_text("{{ name }}\n")
    return root


def copy_seconds(template: Path, destination: Path, answers: dict) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "copier", "copy", "--quiet", "--trust", "--defaults"]
        + [*data_args(answers), str(template), str(destination)],
        check=True,
        capture_output=True,
        timeout=COMMAND_TIMEOUT,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        root = Path(work)
        template = root / "copier-uv-azure"
        copy_template(template)
        small = one_file_template(root / "one-file")
        ours, theirs = [], []
        for attempt in range(args.repeat):
            ours.append(copy_seconds(template, root / f"ours-{attempt}", EXAMPLE_ANSWERS))
            theirs.append(copy_seconds(small, root / f"small-{attempt}", {}))
    ours_s, theirs_s = statistics.median(ours), statistics.median(theirs)
    print(f"copier-uv-azure: {ours_s:.3f} s   one-file template: {theirs_s:.3f} s")
    print(f"ratio: {ours_s / theirs_s:.2f}x (median of {args.repeat})")


if __name__ == "__main__":
    main()
