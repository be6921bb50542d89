"""Facts about the template that the tests, the benchmark and the stand-ins share.

Each is read from where the template defines it (copier.yml), never copied: a change there
reaches every user of these names.
"""

from pathlib import Path

import jinja2
import yaml

TEMPLATE_ROOT = Path(__file__).resolve().parents[1]
COPIER_YML = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text(encoding="utf-8"))

PINNED_UV: str = COPIER_YML["uv_version"]["default"]
MYPY_VERSION: str = COPIER_YML["mypy_version"]["default"]
# The computed value itself, rendered as Copier renders it.
UV_BUILD_REQUIREMENT: str = (
    jinja2.Environment()
    .from_string(COPIER_YML["uv_build_requirement"]["default"])
    .render(uv_version=PINNED_UV)
    .strip()
)
# The Pythons a project may choose (and the pipeline tests from the chosen one up).
PYTHON_VERSIONS: tuple[str, ...] = tuple(COPIER_YML["supported_pythons"]["default"])
LICENSES: tuple[str, ...] = tuple(COPIER_YML["license"]["choices"])

# The example project: what the tests and the benchmark render, and what the emulator's
# command prints a render command for. No keyring install: tests that want it say so.
EXAMPLE_ANSWERS = {
    "project_name": "Contoso Widgets",
    "azure_organization": "contoso",
    "azure_feed": "widgets",
    "install_keyring": False,
}
EXAMPLE_PROJECT = "Widget Platform"

# An Azure DevOps Server example: what a project on a server answers instead.
EXAMPLE_SERVER_HOST = "devops.contoso.com"
EXAMPLE_SERVER_ANSWERS = {
    "azure_host": f"https://{EXAMPLE_SERVER_HOST}/tfs",
    "azure_organization": "DefaultCollection",
    "azure_project": "R and D",
    "azure_feed": "Widgets.Internal",
}

# Feeds the tests' emulator holds: (organization, feed, project or None for an
# organization-scoped feed). On a server the "organization" is the path to the collection.
EXAMPLE_FEEDS = [
    ("contoso", "widgets", EXAMPLE_PROJECT),
    ("contoso", "shared", None),
    ("tfs/DefaultCollection", "Widgets.Internal", "R and D"),
]
