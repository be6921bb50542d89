# /// script
# requires-python = ">=3.11"
# dependencies = []
# ///
"""Check, step by step, that uv on this machine can sign in to the project's feed, and name
the one fix for the first step that fails.

Usage, in every shell: uv run --no-config scripts/check_sign_in.py

`--no-config` lets even a uv older than the project's floor start it, and it needs nothing
from the feed, so it runs where `uv sync` cannot. It never prints a secret: a token is only
ever said to be found, accepted or refused.

The steps follow the order in which uv looks for credentials
(https://docs.astral.sh/uv/concepts/authentication/http/): the index's
UV_INDEX_<NAME>_USERNAME/_PASSWORD variables first, then a netrc file's entry for the host,
then uv's own credential store (`uv auth login`), then the `keyring` command it runs
(keyring-provider = "subprocess"), asking for the index URL, then for each download URL,
which Azure Artifacts serves outside the index's path
(https://github.com/astral-sh/uv/issues/17357).
"""

import base64
import netrc
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PROJECT = Path(__file__).resolve().parents[1]
USER = "VssSessionToken"
# artifacts-keyring answers only for Azure DevOps Services' package hosts.
SERVICES_HOSTS = ("pkgs.dev.azure.com", "pkgs.visualstudio.com")
WINDOWS = os.name == "nt"
TIMEOUT = 60
SIGN_IN_TIMEOUT = 300  # a browser or device-code sign-in takes a person
# The Pythons artifacts-keyring 1.0.0 ships Linux wheels for (CPython 3.9 to 3.13, PyPI's files):
# on a newer one uv would build it from its sdist, whose build downloads the credential
# provider from github.com. So keyring gets one of these, found or installed by uv, and never
# a source build (--no-build-package). A release with wheels for newer Pythons moves this line.
KEYRING_PYTHON = ">=3.9,<3.14"
# A command that is missing, cannot start or does not finish.
COMMAND_ERRORS = (OSError, subprocess.SubprocessError)


class Failed(Exception):
    """A step that failed: what is wrong, and the one thing to do about it."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.problem, self.fix = problem, fix


@dataclass(frozen=True)
class Feed:
    index_name: str
    index_url: str  # without the user name: what uv asks credentials for
    floor: str | None  # [tool.uv] required-version

    @property
    def host(self) -> str:
        return urlsplit(self.index_url).hostname or ""

    @property
    def services(self) -> bool:
        return self.host.endswith(SERVICES_HOSTS)

    @property
    def variables(self) -> tuple[str, str]:
        """The index's credential variables (uv: the name upper-cased, - and . as _)."""
        prefix = "UV_INDEX_" + re.sub(r"[^A-Z0-9]", "_", self.index_name.upper())
        return f"{prefix}_USERNAME", f"{prefix}_PASSWORD"


def read_feed() -> Feed:
    pyproject = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))
    uv_settings = pyproject["tool"]["uv"]
    (index,) = [index for index in uv_settings["index"] if index.get("default")]
    parts = urlsplit(index["url"])
    url = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    return Feed(index["name"], url, uv_settings.get("required-version"))


def run(*command: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """A command's outcome, run in the project (so uv reads its settings), output captured."""
    return subprocess.run(
        command,
        input=stdin,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=TIMEOUT,
    )


# -- uv ------------------------------------------------------------------------------------


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def check_uv(feed: Feed, uv: str) -> str:
    found = run(uv, "--version").stdout.split()[1]
    floor = (feed.floor or "").removeprefix(">=").strip()
    if floor and version_tuple(found) < version_tuple(floor):
        raise Failed(
            f"uv {found} is older than this project's floor ({feed.floor}): older releases "
            "have broken sign-in to Azure feeds.",
            "update uv: uv self update (a uv that pip, winget or Homebrew installed updates "
            "there instead), then run this check again.",
        )
    return f"uv {found}" + (f", at or above the project's floor ({feed.floor})" if floor else "")


# -- keyring: the file uv runs, and what it can do -----------------------------------------------


def keyring_uv_runs(uv: str, windows: bool = WINDOWS, environ=os.environ) -> str | None:
    """The file uv runs for `keyring`, or None.

    uv starts `keyring` by name with Rust's std::process::Command (crates/uv-auth,
    keyring.rs). On Windows that looks for `keyring.exe` only (never .bat or .cmd) in uv.exe's
    own folder, then the system folder (System32) and the Windows folder, and only then on
    PATH (rust-lang/rust#87704; std::process::Command::new). Elsewhere it searches PATH."""
    path = environ.get("PATH", "")
    if not windows:
        return shutil.which("keyring", path=path)
    windows_folder = environ.get("SystemRoot", r"C:\Windows")
    folders = [
        os.path.dirname(uv),
        os.path.join(windows_folder, "System32"),
        windows_folder,
        *path.split(os.pathsep),
    ]
    for folder in filter(None, folders):
        candidate = os.path.join(folder, "keyring.exe")
        if os.path.isfile(candidate):
            return candidate
    return None


def new_terminal(windows: bool) -> str:
    if not windows:
        return "open a new terminal"
    # update-shell writes the user PATH in the registry; a terminal inside VS Code (or
    # another editor) inherits the editor's environment, read when the editor started.
    return "open a new terminal, or restart VS Code (or your editor) if you use its terminal"


def install_command(services: bool) -> str:
    if not services:
        return "uv tool install keyring"
    return (
        f'uv tool install --python "{KEYRING_PYTHON}" keyring --with artifacts-keyring '
        "--no-build-package artifacts-keyring"
    )


def tool_bin_dir(uv: str) -> str | None:
    """Where `uv tool install` puts commands."""
    try:
        found = run(uv, "tool", "dir", "--bin").stdout.strip()
    except COMMAND_ERRORS:
        return None
    return found or None


def wheel_less_linux(libc: tuple[str, str] | None = None) -> str | None:
    """Why artifacts-keyring has no wheel for this Linux machine, or None: its wheels are for
    glibc only (2.28 and later for 2.0, 2.24 for 1.0.0: PyPI's files), so on musl (Alpine)
    or an older glibc it would be built from source, which needs .NET 8 and github.com."""
    if not sys.platform.startswith("linux"):
        return None
    name, version = libc if libc is not None else platform.libc_ver()
    if name != "glibc":
        return "this Linux has no glibc (musl, as on Alpine)"
    if version_tuple(version) < (2, 28):
        return f"this Linux has glibc {version}, older than 2.28"
    return None


def no_artifacts_keyring(why: str, host: str) -> Failed:
    return Failed(
        f"artifacts-keyring cannot be installed here: {why}, and it ships wheels for glibc "
        "2.28 and later only (2.24 for 1.0.0).",
        f"sign in without it: where PATs are allowed, uv auth login {host} --username "
        "VssSessionToken with a PAT (Packaging: Read); else an Entra token from az account "
        "get-access-token --resource 499b84ac-1321-427f-aa17-267ca6975798 as the index's "
        "password (docs/sign-in.md).",
    )


def find_keyring(
    uv: str, services: bool, windows: bool = WINDOWS, environ=os.environ, host: str = ""
) -> str:
    keyring = keyring_uv_runs(uv, windows, environ)
    if keyring is not None:
        return keyring
    wheel_less = wheel_less_linux() if services else None
    if wheel_less:
        raise no_artifacts_keyring(wheel_less, host)
    tools = tool_bin_dir(uv)
    if tools and os.path.isfile(os.path.join(tools, "keyring.exe" if windows else "keyring")):
        raise Failed(
            f"keyring is installed in {tools}, but that folder is not on PATH, so uv cannot "
            "run it and `uv lock` will fail with 401.",
            f"run `uv tool update-shell`, then {new_terminal(windows)}.",
        )
    raise Failed(
        "uv finds no `keyring` command to ask for the feed's password.",
        f"{install_command(services)}, then {new_terminal(windows)}.",
    )


def beside_uv_fix(keyring: str) -> str:
    """How to fix a keyring.exe in uv.exe's folder: it belongs to the Python uv was
    pip-installed into (twine brings one), and wins over PATH."""
    scripts = os.path.dirname(keyring)
    environment = os.path.normpath(os.path.join(scripts, ".."))
    candidates = (os.path.join(scripts, "python.exe"), os.path.join(environment, "python.exe"))
    python = next((path for path in candidates if os.path.isfile(path)), environment)
    return (
        f'add the plug-in to that Python: uv pip install --python "{python}" '
        "artifacts-keyring; or use uv from its own installer instead of this pip-installed "
        "one (https://docs.astral.sh/uv/getting-started/installation/)."
    )


def check_backends(
    keyring: str, uv: str, host: str, windows: bool = WINDOWS, environ=os.environ
) -> str:
    services = host.endswith(SERVICES_HOSTS)
    try:
        listed = run(keyring, "--list-backends")
    except COMMAND_ERRORS as error:
        listed = subprocess.CompletedProcess([], 1, "", str(error))
    if listed.returncode != 0:
        raise Failed(
            f"{keyring} does not run (`keyring --list-backends` failed).",
            f"reinstall it: {install_command(services)} --reinstall",
        )
    backends = listed.stdout
    wheel_less = wheel_less_linux() if services else None
    if wheel_less and "artifacts_keyring" not in backends:
        raise no_artifacts_keyring(wheel_less, host)
    if services and "artifacts_keyring" not in backends:
        if windows and os.path.dirname(keyring) == os.path.dirname(uv):
            raise Failed(
                f"uv will run {keyring}, which has no artifacts-keyring backend: uv looks "
                "beside uv.exe before PATH, so it runs this one whatever PATH says.",
                beside_uv_fix(keyring),
            )
        tools = tool_bin_dir(uv) or "uv's tool folder"
        raise Failed(
            f"uv will run {keyring}, which has no artifacts-keyring backend.",
            f"put {tools} first on PATH (`uv tool update-shell`, then {new_terminal(windows)}), "
            f"or remove that other keyring; or install it: {install_command(services)}",
        )
    # keyring always lists these two; neither stores anything.
    nothing = ("keyring.backends.fail.", "keyring.backends.chainer.")
    stores = [
        line for line in backends.splitlines() if line.strip() and not line.startswith(nothing)
    ]
    if not services and not stores:
        raise Failed(
            f"{keyring} has no password store on this machine (no Windows Credential "
            "Manager, macOS Keychain or Secret Service).",
            f"sign in without keyring: uv auth login {host} --username VssSessionToken "
            "(docs/sign-in.md).",
        )
    return f"uv will run {keyring}, with " + (
        "artifacts-keyring"
        if services
        else f"the backends {', '.join(s.split()[0] for s in stores)}"
    )


# What the Azure Artifacts Credential Provider prints (through artifacts-keyring, which passes
# its standard error on: artifacts-keyring's plugin.py) when it cannot sign in, and the fix.
# "Failed to acquire session token: {0}" is the provider's own message for any failure of a
# sign-in (artifacts-credprovider, Resources.resx AcquireSessionTokenFailed); MSAL's broker
# fails with "wam_runtime_init_failed" where its native runtime cannot start (MSAL.NET,
# RuntimeBroker.cs), as on headless Linux (artifacts-credprovider#702).
BROKER_FAILED = "wam_runtime_init_failed"
# artifacts-keyring's verbosity (ARTIFACTS_KEYRING_VERBOSITY) at which the credential
# provider's device-code instructions, printed at Information, no longer show.
QUIET = ("warning", "error")
SESSION_TOKEN_FAILED = "Failed to acquire session token"


def credential_provider_failure(said: str, host: str, variables: tuple[str, str]) -> Failed | None:
    """The fix for what the credential provider printed, where it names a known failure."""
    if BROKER_FAILED in said:
        return Failed(
            "artifacts-keyring's sign-in broker cannot start on this machine "
            f"({BROKER_FAILED}: no desktop session, or the broker's system packages missing).",
            "turn the broker off for your user: ARTIFACTS_CREDENTIALPROVIDER_MSAL_ALLOW_BROKER="
            "false (docs/sign-in.md shows it per shell), then run `uv lock` again: a browser or "
            "a device code signs you in.",
        )
    if SESSION_TOKEN_FAILED in said:
        user_name, password_name = variables
        return Failed(
            "you signed in, but Azure DevOps gave artifacts-keyring no session token: your "
            "organization may block personal access tokens.",
            "let it hand uv your Entra token instead: ARTIFACTS_CREDENTIALPROVIDER_RETURN_"
            "ENTRA_TOKENS=true (artifacts-keyring 2.0). Where PATs are allowed, store one: uv "
            f"auth login {host} --username VssSessionToken. Or set {user_name}=VssSessionToken "
            f"and {password_name} to an Entra token (az account get-access-token --resource "
            "499b84ac-1321-427f-aa17-267ca6975798 --query accessToken -o tsv).",
        )
    return None


def keyring_answer(keyring: str, url: str) -> tuple[str | None, str]:
    """(what keyring answers for `url` and uv's user name, what uv asks, or None; what it
    printed on its standard error). Its messages (a device code to sign in with, say) reach
    the terminal as they come; its answer does not."""
    try:
        process = subprocess.Popen(
            [keyring, "get", url, USER],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
        )
    except OSError:
        return None, ""
    said: list[str] = []
    reader = threading.Thread(target=_echo, args=(process.stderr, said), daemon=True)
    reader.start()
    try:
        process.wait(timeout=SIGN_IN_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        return None, "".join(said)
    reader.join(timeout=5)
    password = process.stdout.read().strip()
    answer = password if process.returncode == 0 and password else None
    return answer, "".join(said)


def _echo(stream, copy: list[str]) -> None:
    """Pass a command's standard error on, line by line, and keep it."""
    for line in stream:
        sys.stderr.write(line)
        sys.stderr.flush()
        copy.append(line)


# -- the feed ------------------------------------------------------------------------------


class KeepRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a download's 303 is the answer itself
        return None


def get(url: str, password: str) -> tuple[int, str]:
    """(status, body) of a GET with uv's user name and `password`, redirects not followed."""
    pair = base64.b64encode(f"{USER}:{password}".encode()).decode()
    request = urllib.request.Request(url, headers={"Authorization": f"Basic {pair}"})
    opener = urllib.request.build_opener(KeepRedirects)
    try:
        with opener.open(request, timeout=TIMEOUT) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")
    except urllib.error.URLError as error:
        if "CERTIFICATE_VERIFY_FAILED" in str(error.reason):
            raise Failed(
                f"this machine does not trust {urlsplit(url).hostname}'s certificate.",
                "install your company's root certificate in the system's certificate store "
                "(ask IT), or set SSL_CERT_FILE to a bundle that holds it.",
            ) from None
        raise Failed(
            f"{urlsplit(url).hostname} cannot be reached: {error.reason}.",
            "check the network, or the proxy (HTTPS_PROXY) this machine needs.",
        ) from None


def refused(status: int, what: str, source: str, services: bool) -> Failed:
    if status == 401:
        scope = "organization" if services else "collection"
        return Failed(
            f"the feed refuses the token from {source} for {what} (401).",
            f"the PAT has expired, lacks the Packaging (Read) scope or belongs to another "
            f"{scope}: create a new one and store it again.",
        )
    if status == 403:
        return Failed(
            f"you are signed in, but may not read the feed ({what}: 403).",
            "ask a feed owner for Feed and Upstream Reader (Collaborator) on it (Feed "
            "settings > Permissions).",
        )
    return Failed(
        f"the feed answers {status} for {what}.", "check the index URL in pyproject.toml."
    )


def check_token(feed: Feed, source: str, answer, no_token: str, no_download_token: str) -> str:
    """The index, then a download link from it: `answer(url)` gives the password for a URL
    (None for none); the fixes for no token at all, and for none for the download."""
    page = feed.index_url + "pytest/"
    password = answer(feed.index_url)
    if password is None:
        raise Failed(f"{source} has no token for {feed.index_url}.", no_token)
    status, body = get(page, password)
    # Azure says which is missing: "The feed with ID '...' doesn't exist." for a feed.
    if status == 404 and "doesn't exist" in body and "feed" in body.lower():
        raise Failed(
            f"there is no such feed: {feed.index_url} (404).",
            "check the organization, project and feed name in pyproject.toml's index URL "
            "against Artifacts > Connect to feed, and correct the answers with copier update "
            '--trust --defaults --data azure_feed="<the feed>" (or azure_project).',
        )
    if status == 404:
        raise Failed(
            f"the feed has no pytest ({page}: 404): it has no PyPI upstream source.",
            "a feed owner adds PyPI under Feed settings > Upstream sources.",
        )
    if status != 200:
        raise refused(status, "the index", source, feed.services)
    links = re.findall(r'href="([^"#]+)', body)
    if not links:
        raise Failed(f"the feed lists no file for pytest ({page}).", "check the index URL.")
    download = links[0]
    password = answer(download)
    if password is None:
        raise Failed(
            f"{source} answers for the index URL but not for its download links "
            f"({download}), which lie outside it.",
            no_download_token,
        )
    status, _ = get(download, password)
    if status not in (200, 302, 303):
        raise refused(status, "a download link", source, feed.services)
    return f"{source} signs in to the index and to its download links"


# -- the steps -----------------------------------------------------------------------------


class Skipped(Exception):
    """A step for another way of signing in than the one uv will take."""


# How uv will sign in, in the order it looks.
VARIABLES, NETRC, UV_AUTH, KEYRING = "the UV_INDEX variables", "netrc", "uv auth login", "keyring"


def netrc_file(windows: bool, environ) -> Path:
    """The netrc file uv reads: NETRC, else .netrc (_netrc on Windows) in the home folder."""
    if environ.get("NETRC"):
        return Path(environ["NETRC"])
    home = environ.get("USERPROFILE" if windows else "HOME") or str(Path.home())
    return Path(home) / ("_netrc" if windows else ".netrc")


# No netrc file, or one uv could not read either.
NETRC_ERRORS = (OSError, netrc.NetrcParseError)


def netrc_password(path: Path, host: str) -> str | None:
    try:
        entry = netrc.netrc(str(path)).authenticators(host)
    except NETRC_ERRORS:
        return None
    return entry[2] if entry else None


class SignInCheck:
    """The steps, in order, for this machine: each returns what it found, raises Failed, or
    raises Skipped."""

    def __init__(self, feed: Feed, uv: str, windows: bool = WINDOWS, environ=os.environ):
        self.feed, self.uv, self.windows, self.environ = feed, uv, windows, environ
        self.keyring = ""
        self.netrc = netrc_file(windows, environ)
        if any(environ.get(name) for name in feed.variables):
            self.route = VARIABLES
        elif netrc_password(self.netrc, feed.host) is not None:
            self.route = NETRC
        elif self.uv_auth_answer(feed.index_url):
            self.route = UV_AUTH
        else:
            self.route = KEYRING

    def steps(self) -> list[tuple[str, object]]:
        return [
            ("uv", self.uv_version),
            ("netrc", self.netrc_entry),
            ("keyring", self.keyring_command),
            ("keyring's backends", self.backends),
            ("a token for the index and a download", self.token),
            ("the PAT under the server's host name", self.server_pat),
            (VARIABLES, self.variables),
            ("TLS", self.tls),
        ]

    def on_route(self, route: str) -> None:
        if self.route != route:
            raise Skipped(f"uv signs in with {self.route}")

    def uv_auth_answer(self, url: str) -> str | None:
        stored = run(self.uv, "auth", "token", url, "--username", USER)
        return stored.stdout.strip() if stored.returncode == 0 and stored.stdout.strip() else None

    def uv_version(self) -> str:
        return check_uv(self.feed, self.uv)

    def netrc_entry(self) -> str:
        """uv takes a netrc entry for the host before its own store and keyring: a stale
        password there is what it sends."""
        host = self.feed.host
        if self.route != NETRC:
            return f"no entry for {host} in {self.netrc}"
        password = netrc_password(self.netrc, host) or ""
        try:
            return check_token(
                self.feed, f"{self.netrc}'s entry for {host}", lambda url: password, "", ""
            )
        except Failed as failure:
            if "(401)" not in failure.problem:
                raise
            raise Failed(
                failure.problem,
                f"put a current PAT on the `machine {host}` line of {self.netrc}, or delete "
                "that line: uv uses it before its own store and keyring.",
            ) from None

    def keyring_command(self) -> str:
        self.on_route(KEYRING)
        self.keyring = find_keyring(
            self.uv, self.feed.services, self.windows, self.environ, self.feed.host
        )
        return f"uv will run {self.keyring}"

    def backends(self) -> str:
        self.on_route(KEYRING)
        return check_backends(self.keyring, self.uv, self.feed.host, self.windows, self.environ)

    def token(self) -> str:
        host = self.feed.host
        if self.route == UV_AUTH:
            return check_token(
                self.feed,
                "uv's credential store",
                self.uv_auth_answer,
                "",
                f"store the PAT for the host, not the index: uv auth login {host} --username "
                "VssSessionToken",
            )
        self.on_route(KEYRING)
        if not self.feed.services:
            raise Skipped("artifacts-keyring never answers for Azure DevOps Server")
        exact = "VSS_NUGET_EXTERNAL_FEED_ENDPOINTS" in self.environ

        def answer(url: str) -> str | None:
            password, said = keyring_answer(self.keyring, url)
            failure = credential_provider_failure(said, host, self.feed.variables)
            if password is None and failure is not None:
                raise failure
            return password

        quiet = self.environ.get("ARTIFACTS_KEYRING_VERBOSITY", "").lower() in QUIET
        return check_token(
            self.feed,
            "artifacts-keyring",
            answer,
            "unset ARTIFACTS_KEYRING_VERBOSITY, which at Warning or Error hides the device "
            "code to sign in with, then run `uv lock` in a terminal."
            if quiet
            else "run `uv lock` in a terminal: artifacts-keyring signs you in there, with a "
            "browser or a device code.",
            "unset VSS_NUGET_EXTERNAL_FEED_ENDPOINTS, which answers for exact URLs only, and "
            "sign in with `uv lock` in a terminal; or use a PAT (docs/sign-in.md)."
            if exact
            else "sign in again with `uv lock` in a terminal.",
        )

    def server_pat(self) -> str:
        self.on_route(KEYRING)
        if self.feed.services:
            raise Skipped("for Azure DevOps Server only")
        host = self.feed.host

        def answer(url: str) -> str | None:
            # uv asks for the URL, then for its host, where docs/sign-in.md has the PAT stored.
            return keyring_answer(self.keyring, url)[0] or keyring_answer(self.keyring, host)[0]

        store = f"keyring set {host} VssSessionToken (paste a PAT with the Packaging (Read) scope)"
        return check_token(self.feed, f"keyring's entry for {host}", answer, store, store)

    def variables(self) -> str:
        if self.route != VARIABLES:
            return f"not set (uv signs in with {self.route})"
        user_name, password_name = self.feed.variables
        missing = [name for name in self.feed.variables if not self.environ.get(name)]
        if missing:
            raise Failed(
                f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set: uv "
                "sends the PAT only with both variables (docs/sign-in.md shows both, per shell).",
                f"set {user_name} to VssSessionToken and {password_name} to your PAT, both.",
            )
        pat = self.environ[password_name]
        return check_token(self.feed, password_name, lambda url: pat, "", "")

    def tls(self) -> str:
        """Whether uv itself trusts the feed's certificate: uv trusts its bundled Mozilla
        roots unless system-certs is on
        (https://docs.astral.sh/uv/concepts/authentication/certificates/)."""
        probe = run(
            self.uv,
            *("pip", "compile", "-", "--index-url", f"https://{self.feed.host}/"),
            *("--no-cache", "--keyring-provider", "disabled", "--quiet"),
            stdin="pytest",
        )
        if "certificate" in probe.stderr or "--system-certs" in probe.stderr:
            raise Failed(
                f"uv does not trust {self.feed.host}'s certificate (a company CA, or a proxy "
                "that inspects TLS), though this machine does.",
                "let uv use the system's certificates: set UV_SYSTEM_CERTS=true for your "
                "user, or system-certs = true in your user uv.toml (docs/sign-in.md).",
            )
        return f"uv trusts {self.feed.host}'s certificate"


# The project's table of messages, causes and fixes.
TROUBLESHOOTING = "docs/troubleshooting.md"


def main(windows: bool = WINDOWS, environ=os.environ) -> int:
    uv = shutil.which("uv", path=environ.get("PATH"))
    if uv is None:
        print("[FAIL] uv is not on PATH.")
        print("Fix: install it: https://docs.astral.sh/uv/getting-started/installation/")
        return 1
    check = SignInCheck(read_feed(), uv, windows, environ)
    for name, step in check.steps():
        try:
            print(f"[ok]   {name}: {step()}", flush=True)
        except Skipped as reason:
            print(f"[skip] {name}: {reason}", flush=True)
        except Failed as failure:
            print(f"[FAIL] {name}: {failure.problem}")
            print(f"Fix: {failure.fix}")
            print(f"Other messages, with their causes and fixes: {TROUBLESHOOTING}")
            return 1
    print("uv can sign in to the feed from this machine.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
