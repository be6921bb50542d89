"""What the machine the tests run on is, as a pipeline agent: the Pythons in its tool cache.

The machine image carries CPython 3.10 to 3.13 under pyenv; the agent's tool cache holds
exactly these, so the legs that run here, and those that cannot, are the same on every such
machine. A machine that lacks one fails the tests that need the agent, naming it.
"""

from azure_standins.template_facts import PYTHON_VERSIONS

AGENT_PYTHONS = ("3.10", "3.11", "3.12", "3.13")


def legs_not_run_here(python_version: str) -> list[str]:
    """The Test legs of a hosted-image render for `python_version` that this machine cannot
    run: Linux legs of Pythons the agent lacks, and the Windows leg."""
    tested = PYTHON_VERSIONS[PYTHON_VERSIONS.index(python_version) :]
    linux = [v for v in tested if v not in AGENT_PYTHONS]
    return [f"Test/Test/Linux_Python_{v.replace('.', '_')}" for v in linux] + [
        f"Test/Test/Windows_Python_{python_version.replace('.', '_')}"
    ]
