"""Which pushes start a run: the `trigger:` block of an Azure Repos Git pipeline.

As Microsoft's "Build Azure Repos Git repositories" page (CI triggers) and the YAML schema's
`trigger` page describe it:

- No `trigger` key: every branch triggers, as if `branches: include: ['*']`; tags don't.
- `trigger: none`: nothing triggers. A list: the branches that trigger.
- `branches` and `tags` take `include` and `exclude`; includes are applied first, then the
  excludes are removed; an `exclude` without an `include` includes `*`. A branch list may
  also name tags as `refs/tags/...`.
- `paths` (which needs `branches`): a push triggers only when a file it changes falls under
  an included path and not under an excluded one; a deeper path wins over its parent
  ("exclude /tools, include /tools/trigger-runs-on-these"). Without `paths`, every file counts.
- Wildcards: `*` is zero or more characters and `?` one, anywhere in a pattern.
- `batch` only delays runs while one is in progress: it changes nothing here.

Microsoft documents `paths` together with `tags` only ambiguously, so that pair is refused.
"""

import re

from azure_standins.pipeline.expressions import UnsupportedConstruct
from azure_standins.rules import applies

TRIGGER_KEYS = {"batch", "branches", "tags", "paths"}
FILTER_KEYS = {"include", "exclude"}
DEFAULT = {"branches": {"include": ["*"]}}


def _pattern(text: str) -> re.Pattern:
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in str(text))
    return re.compile("".join(parts))


def _filter(node, where: str) -> tuple[list[str], list[str]]:
    """(include, exclude) of a filter given as a list or as include/exclude lists."""
    if isinstance(node, list):
        return [str(p) for p in node], []
    if not isinstance(node, dict) or set(node) - FILTER_KEYS:
        raise UnsupportedConstruct(f"trigger {where}: {node!r}")
    include = [str(p) for p in node.get("include") or []]
    exclude = [str(p) for p in node.get("exclude") or []]
    return include or (["*"] if exclude else []), exclude


def _ref_matches(patterns: list[str], name: str, ref: str) -> bool:
    return any(_pattern(p).fullmatch(name) or _pattern(p).fullmatch(ref) for p in patterns)


def _path_rule(pattern: str, path: str) -> bool:
    """A path filter names a file or a folder: everything under it matches."""
    folder = pattern.strip("/")
    if folder in ("", "*"):
        return True
    regex = _pattern(folder)
    return bool(regex.fullmatch(path) or re.fullmatch(regex.pattern + "/.*", path))


def _path_included(include: list[str], exclude: list[str], path: str) -> bool:
    """The deepest filter that matches decides; an exclude wins a tie."""
    matching = [(len(p.strip("/")), 0, p) for p in include if _path_rule(p, path)]
    matching += [(len(p.strip("/")), 1, p) for p in exclude if _path_rule(p, path)]
    return bool(matching) and max(matching)[1] == 0


def push_triggers(trigger, ref: str, changed_paths: list[str]) -> bool:
    """Does a push of `ref` that changed `changed_paths` start a run?"""
    if trigger is None:
        trigger = DEFAULT
    elif trigger == "none":
        return False
    elif isinstance(trigger, list):
        trigger = {"branches": trigger}
    if not isinstance(trigger, dict) or set(trigger) - TRIGGER_KEYS:
        raise UnsupportedConstruct(f"trigger {trigger!r}")
    if not applies("triggers.filters"):  # includes only: no excludes, no paths
        trigger = {
            kind: filters.get("include", []) if isinstance(filters, dict) else filters
            for kind, filters in trigger.items()
            if kind in ("branches", "tags")
        }
    if "paths" in trigger and "branches" not in trigger:
        raise UnsupportedConstruct("trigger paths without branches")
    if "paths" in trigger and "tags" in trigger:
        raise UnsupportedConstruct("trigger paths together with tags")
    branches = _filter(trigger.get("branches", []), "branches")
    if ref.startswith("refs/tags/"):
        name = ref.removeprefix("refs/tags/")
        tags = _filter(trigger.get("tags", []), "tags")
        in_tags = _ref_matches(tags[0], name, ref) and not _ref_matches(tags[1], name, ref)
        if not applies("triggers.ref-patterns"):
            return True
        listed = [p for p in branches[0] if str(p).startswith("refs/tags/")]
        in_branches = _ref_matches(listed, name, ref) and not _ref_matches(branches[1], name, ref)
        return in_tags or in_branches
    name = ref.removeprefix("refs/heads/")
    if not _ref_matches(branches[0], name, ref) or _ref_matches(branches[1], name, ref):
        return False
    if "paths" not in trigger:
        return True
    include, exclude = _filter(trigger["paths"], "paths")
    return any(_path_included(include, exclude, path) for path in changed_paths)


def pipeline_trigger(trigger, branch: str) -> bool:
    """Does a pipeline resource's `trigger` fire for a completed run of `branch`? `true` for
    every branch, `none` (or no trigger) for none, else its branch filters, as a push
    trigger's (Microsoft Learn, YAML schema: resources.pipelines.pipeline.trigger)."""
    if trigger is True or trigger == "true":
        return True
    if trigger in (None, "none", False):
        return False
    if not isinstance(trigger, dict) or set(trigger) - {"branches", "enabled"}:
        raise UnsupportedConstruct(f"pipeline resource trigger {trigger!r}")
    if trigger.get("enabled", True) is False:
        return False
    include, exclude = _filter(trigger.get("branches", ["*"]), "branches")
    name = branch.removeprefix("refs/heads/")
    return _ref_matches(include, name, branch) and not _ref_matches(exclude, name, branch)
