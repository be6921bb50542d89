"""Typing into a command that asks on its terminal, as a person at a prompt does."""

import os
import pty
import select
import termios
import time


def echoing(terminal: int) -> bool:
    return bool(termios.tcgetattr(terminal)[3] & termios.ECHO)


def type_at_prompt(
    argv: list[str], answer: str, cwd, env: dict, prompt: bytes = b"password:", timeout=120
) -> tuple[int, str]:
    """Run `argv` on a new terminal, type `answer` and Enter once it shows `prompt`, and
    return its exit code and what it showed (a prompt for a secret does not echo it)."""
    pid, terminal = pty.fork()
    if pid == 0:  # the child: its own session, the new terminal as its controlling one
        os.chdir(cwd)
        os.execvpe(argv[0], argv, env)
    shown, typed = b"", False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([terminal], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(terminal, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        # Type once the prompt is shown and echo is off: the command reads the secret now
        # (typed earlier, it would be echoed, then flushed).
        if not typed and prompt in shown.lower() and not echoing(terminal):
            os.write(terminal, answer.encode() + b"\r")
            typed = True
    else:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    os.close(terminal)
    return os.waitstatus_to_exitcode(status), shown.decode("utf-8", "replace")
