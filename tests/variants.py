"""The answers that pick each variant, and the URLs each one must produce.

The expected URLs are written out by hand, not computed: they are what a user
would copy from Azure DevOps' "Connect to feed" page.
"""

BASE_ANSWERS = {
    "project_name": "Contoso Widgets",
    "azure_organization": "contoso",
    "azure_feed": "widgets",
    "install_keyring": False,
}

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

PYTHON_VERSIONS = ("3.10", "3.13")
LICENSES = ("MIT", "Apache-2.0", "BSD-3-Clause", "Proprietary")

# Every combination the render tests check: publish x feed scope x Python x license.
MATRIX = [
    (publish, scope, python, license_)
    for publish in (True, False)
    for scope in FEEDS
    for python in PYTHON_VERSIONS
    for license_ in LICENSES
]


def variant_id(publish: bool, scope: str, python: str, license_: str) -> str:
    return f"{'publish' if publish else 'consume'}-{scope}-py{python}-{license_}"


def variant_answers(publish: bool, scope: str, python: str, license_: str) -> dict:
    return {
        **BASE_ANSWERS,
        **FEEDS[scope][0],
        "publish": publish,
        "python_version": python,
        "license": license_,
    }


# Feeds on the test emulator: (organization, feed, project or None for organization scope).
EMULATED_FEEDS = [
    ("contoso", "widgets", "Widget Platform"),
    ("contoso", "shared", None),
]
