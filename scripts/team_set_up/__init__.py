"""The set-up of a team's Azure DevOps for a project rendered from copier-uv-azure: what it
needs of the project's answers (team.py), the set-up it wants (wanted.py), and the three ways
to meet it (sessions.py): print the calls, make them, or report how Azure differs."""
