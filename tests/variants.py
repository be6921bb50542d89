"""The answers that pick each variant, and the URLs each one must produce.

The expected URLs are written out by hand, not computed: they are what a user
would copy from Azure DevOps' "Connect to feed" page.
"""

from azure_standins.template_facts import EXAMPLE_ANSWERS, LICENSES, PYTHON_VERSIONS

# Feed scope -> (answers, index URL, publish URL)
FEEDS = {
    "project": (
        {"azure_project": "Widget Platform"},
        "https://VssSessionToken@pkgs.dev.azure.com/contoso/Widget%20Platform/_packaging/widgets/pypi/simple/",
        "https://pkgs.dev.azure.com/contoso/Widget%20Platform/_packaging/widgets/pypi/upload/",
    ),
    "organization": (
        {},
        "https://VssSessionToken@pkgs.dev.azure.com/contoso/_packaging/widgets/pypi/simple/",
        "https://pkgs.dev.azure.com/contoso/_packaging/widgets/pypi/upload/",
    ),
    "server": (
        {
            "azure_host": "https://devops.contoso.com/tfs/",
            "azure_organization": "DefaultCollection",
            "azure_project": "R and D",
            "azure_feed": "Widgets.Internal",
        },
        "https://VssSessionToken@devops.contoso.com/tfs/DefaultCollection/R%20and%20D/_packaging/Widgets.Internal/pypi/simple/",
        "https://devops.contoso.com/tfs/DefaultCollection/R%20and%20D/_packaging/Widgets.Internal/pypi/upload/",
    ),
}

# The lowest and the newest Python the template supports: each is rendered for both variants
# and every feed scope.
RENDERED_PYTHONS = (PYTHON_VERSIONS[0], PYTHON_VERSIONS[-1])

# The combinations the render tests check: publish x feed scope x Python, each with the
# default license; and every other license, which touches only LICENSE and the license
# field, with both variants (a render takes longer than most tests of it).
MATRIX = [
    (publish, scope, python, LICENSES[0])
    for publish in (True, False)
    for scope in FEEDS
    for python in RENDERED_PYTHONS
] + [
    (publish, "project", RENDERED_PYTHONS[0], other)
    for publish in (True, False)
    for other in LICENSES[1:]
]


def variant_id(publish: bool, scope: str, python: str, license_: str) -> str:
    return f"{'publish' if publish else 'consume'}-{scope}-py{python}-{license_}"


def variant_answers(publish: bool, scope: str, python: str, license_: str) -> dict:
    return {
        **EXAMPLE_ANSWERS,
        **FEEDS[scope][0],
        "publish": publish,
        # The developers' Python is the library's floor: each variant tests the range from it.
        "python_version": python,
        "python_floor": python,
        "license": license_,
    }


# Pipelines the schema check validates beyond MATRIX: a named pool on Azure DevOps
# Services (of x64 and of ARM64 agents), every Python between the lowest and the newest, and
# applications.
MORE_PIPELINES = (
    [
        {**variant_answers(publish, "project", python, "MIT"), "agent_pool": "Linux Agents"}
        for publish in (True, False)
        for python in RENDERED_PYTHONS
    ]
    + [
        {
            **variant_answers(publish, "project", "3.13", "MIT"),
            "agent_pool": "Arm Agents",
            "agent_architecture": "arm64",
        }
        for publish in (True, False)
    ]
    + [
        variant_answers(publish, "project", python, "MIT")
        for publish in (True, False)
        for python in PYTHON_VERSIONS[1:-1]
    ]
    # A job per Python, on hosted agents and on a pool.
    + [
        {**variant_answers(publish, "project", "3.12", "MIT"), "job_per_python": True, **pool}
        for publish in (True, False)
        for pool in ({}, {"agent_pool": "Linux Agents"})
    ]
    # Applications: their image job, on hosted agents, on a pool, and on a server.
    + [
        {**variant_answers(True, scope, "3.13", "MIT"), "project_kind": "application", **more}
        for scope, more in (
            ("project", {}),
            ("project", {"agent_pool": "Linux Agents", "job_per_python": True}),
            ("server", {}),
        )
    ]
)

# Where each scope's download links start: the organization's (or collection's) root.
DOWNLOADS_URLS = {
    "project": "https://pkgs.dev.azure.com/contoso/",
    "organization": "https://pkgs.dev.azure.com/contoso/",
    "server": "https://devops.contoso.com/tfs/DefaultCollection/",
}
