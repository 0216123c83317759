"""The README's walk-through, run as written: its fenced blocks are parsed from the README,
`make run` starts the service (on free ports instead of 8000 and 8001), and each command
of the second block runs in one shell, in order, so the README cannot drift again. Each
command's output goes to files of its own: the sample server started in the background
logs every request (the poller's, the dispatcher's) whenever it comes, and in one stream
those lines landed inside whatever answer was printing then."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.support.service import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "nw_walkthrough_admin_token_0123456789"
MARK = "@@walkthrough-command"


def walkthrough_blocks() -> list[str]:
    """The ```sh blocks of the README's walk-through section."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## A walk through with curl", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.DOTALL)


def commands(block: str) -> list[str]:
    """The block's commands: continuation lines joined, comments and blank lines dropped."""
    out: list[str] = []
    pending = ""
    for line in block.splitlines():
        if pending:
            line = pending + " " + line.strip()
            pending = ""
        if line.rstrip().endswith("\\"):
            pending = line.rstrip()[:-1].rstrip()
            continue
        if line.strip() and not line.lstrip().startswith("#"):
            out.append(line.strip())
    return out


def _json(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None


@pytest.mark.slow
def test_readme_walkthrough_runs_as_written(tmp_path: Path) -> None:
    """`make run` as the README starts it, then every command of the walk-through: each
    exits 0, no answer is an error, and the rule made after the article alerts it once
    asked, as the README says."""
    if shutil.which("make") is None or shutil.which("curl") is None:
        pytest.skip("the walk-through needs make and curl")
    start, session = walkthrough_blocks()
    api_port, feed_port = free_port(), free_port()

    def ports(text: str) -> str:
        return text.replace("127.0.0.1:8000", f"127.0.0.1:{api_port}").replace(
            "8001", str(feed_port)
        )

    [run_line] = [c for c in commands(ports(start)) if "make run" in c]
    words = shlex.split(run_line)
    assignments = dict(w.split("=", 1) for w in words[: words.index("make")])
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWATCH_")}
    env.update(
        assignments,
        NEWSWATCH_DATABASE_URL=f"sqlite:///{tmp_path / 'walk.db'}",
        NEWSWATCH_ADMIN_TOKEN=ADMIN,
        NEWSWATCH_LOG_FORMAT="json",
    )
    log = (tmp_path / "make-run.log").open("wb")
    service = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"PORT={api_port}"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    shell: subprocess.Popen[str] | None = None
    try:
        wait_until(
            lambda: _healthy(api_port) or service.poll() is not None,
            timeout=120,
            message="make run's service to answer /healthz",
        )
        assert service.poll() is None, (tmp_path / "make-run.log").read_text()
        steps = commands(ports(session).replace("ADMIN=nw_...", f"ADMIN={ADMIN}"))
        # A group runs in this shell (its assignments and jobs stay); a job started in it
        # keeps writing to that command's files.
        script = "".join(
            f'{{ {step}\n}} >"{tmp_path}/{i}.out" 2>"{tmp_path}/{i}.err"\necho "{MARK} {i} $?"\n'
            for i, step in enumerate(steps)
        )
        shell = subprocess.Popen(
            ["bash", "-c", script],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )  # fmt: skip
        output, _ = shell.communicate(timeout=180)
    finally:
        for proc in (shell, service):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(30)
        log.close()

    def printed(i: int) -> str:
        """What command `i` printed, and the end of the service's log, for a failure."""
        out, err = (_read(tmp_path / f"{i}{suffix}") for suffix in (".out", ".err"))
        service_log = _read(tmp_path / "make-run.log")[-3000:]
        return f"{steps[i]}\nstdout: {out!r}\nstderr: {err!r}\nservice log:\n{service_log}"

    statuses = dict(re.findall(rf"^{MARK} (\d+) (\d+)$", output, re.MULTILINE))
    answers: list[str] = []
    for i in range(len(steps)):
        assert str(i) in statuses, f"command {i} did not finish: {output[-3000:]}\n{printed(i)}"
        assert statuses[str(i)] == "0", f"command {i} failed ({statuses[str(i)]}): {printed(i)}"
        answers.append(_read(tmp_path / f"{i}.out").strip())

    by_path: dict[str, object] = {}
    for i, (step, answer) in enumerate(zip(steps, answers, strict=True)):
        if not step.startswith("curl"):
            continue
        body = _json(answer)
        assert body is not None, f"command {i}'s answer did not parse as JSON: {printed(i)}"
        assert not (isinstance(body, dict) and "detail" in body), printed(i)
        if found := re.search(r"\$API([^\s\"']*)", step):
            by_path[found.group(1)] = body
    rule, backfill, hits = (
        by_path[p] for p in ("/v1/rules", "/v1/rules/1/backfill", "/v1/hits?limit=20")
    )
    assert isinstance(rule, dict) and rule["backlog"]["matching"] == 1, rule
    assert isinstance(backfill, dict) and backfill["alerted"] == 1, backfill
    assert isinstance(hits, dict), hits
    titles = [h["article"]["title"] for h in hits["items"]]
    assert titles == ["ByteDance and Huawei sign a chip deal"], hits


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
