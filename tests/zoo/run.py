"""Run one of the zoo scripts in a fresh process and read its JSON (the tests' helper)."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent


def run_script(tmp_path: pathlib.Path, script: str, *arguments: str, timeout: int = 1200) -> dict:
    """``python tests/zoo/<script> <arguments>``: its stdout as JSON; its stderr in the failure."""
    log = tmp_path / "-".join((pathlib.Path(script).stem, *arguments, "log"))
    with log.open("w") as stderr:
        done = subprocess.run(
            [sys.executable, str(HERE / script), *arguments],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            timeout=timeout,
        )
    assert done.returncode == 0, log.read_text()[-6000:]
    return json.loads(done.stdout)
