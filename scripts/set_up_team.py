# /// script
# requires-python = ">=3.11"
# dependencies = ["pyyaml>=6"]
# ///
"""Set up a team's Azure DevOps for a project rendered from copier-uv-azure, or report how it
differs from that set-up.

Usage (in a clone of the template's repository):
    uv run scripts/set_up_team.py --answers <project>/.copier-answers.yml
        --organization <URL> [--dry-run | --check]

`--organization` is the organization's URL (https://dev.azure.com/contoso) or, on Azure DevOps
Server, the collection's (https://devops.contoso.com/tfs/DefaultCollection).

Without a flag it makes the set-up: the feed (PyPI upstream) and its roles, the repository,
the build and release pipelines, the Build Validation policy, "Limit variables that can be set
at queue time", the release environment and its checks, and the release resources' pipeline
permissions. It reads first and changes only what differs, so running it again changes
nothing. What no API does it lists at the end, for a person.

--dry-run makes no connection and needs no sign-in: it prints each call, as a line
`METHOD URL` and, for a call that sends one, its JSON body on the next line, as if nothing
existed yet; `<...>` is an id an earlier call returns. --check changes nothing: it reads the
set-up back and prints each drift from it, exiting 1 on any (run it on a schedule).

Sign-in: a PAT in AZURE_DEVOPS_EXT_PAT (as `az devops` reads it), else, on Azure DevOps
Services, the Entra token of whoever `az login` signed in. The calls are those of Microsoft's
REST specification (MicrosoftDocs/vsts-rest-api-specs), in the api-version each host serves:
7.1 on Azure DevOps Services, 7.0 on Azure DevOps Server 2022.
"""

import argparse
import sys
from pathlib import Path

from team_set_up.sessions import Apply, Check, Failed, Http, Plan, sign_in
from team_set_up.team import Refused, read_team
from team_set_up.wanted import set_up


def main(argv: list[str], connect=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--answers", type=Path, required=True, help="the project's .copier-answers.yml"
    )
    parser.add_argument(
        "--organization", required=True, help="the organization's or collection's URL"
    )
    parser.add_argument(
        "--project",
        default="",
        help="the team's project, where its repository and pipelines live "
        "(default: the feed's project, azure_project)",
    )
    parser.add_argument(
        "--release-identity",
        default="",
        help="who releases (the release connection's identity), made Feed Publisher",
    )
    parser.add_argument(
        "--approver",
        action="append",
        default=[],
        help="a person (sign-in address) or group who approves releases; repeat for more",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="print the calls; connect to nothing")
    mode.add_argument("--check", action="store_true", help="report drift; change nothing")
    options = parser.parse_args(argv)
    try:
        team = read_team(
            options.answers,
            options.organization,
            project=options.project,
            release_identity=options.release_identity,
            approvers=tuple(options.approver),
        )
        if options.dry_run:
            session = Plan()
        else:
            http = Http(sign_in(team.services), connect)
            session = Check(http=http) if options.check else Apply(http=http)
        set_up(team, session)
    except (Refused, Failed, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if options.check:
        for drift in session.drift:
            print(f"drift: {drift}")
    # A dry run's standard output is calls alone, for a program to read.
    for step in session.by_hand_steps:
        print(f"by hand: {step}", file=sys.stderr if options.dry_run else sys.stdout)
    if options.check:
        if session.drift or session.by_hand_steps:
            return 1
        print(f"{team.repository}: set up as intended.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
