"""`make test` on a fresh machine: the Debian packages the suite needs are checked first,
installed when the machine lets us, else named in the one command to run."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "system-packages"


def _run_with_only(tmp_path: Path, tools: list[str], *args: str) -> subprocess.CompletedProcess:
    """The script on a PATH holding just `tools` (no chromium, no apt-get, ...)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in tools:
        target = subprocess.run(["bash", "-c", f"command -v {tool}"], capture_output=True, text=True).stdout.strip()
        assert target, tool
        (bin_dir / tool).symlink_to(target)
    env = {"PATH": str(bin_dir), "HOME": os.environ.get("HOME", "/")}
    return subprocess.run([str(bin_dir / "bash"), str(SCRIPT), *args], capture_output=True, text=True, env=env,
                          check=False)


def test_a_machine_missing_packages_stops_at_once_with_the_line_to_run(tmp_path):
    result = _run_with_only(tmp_path, ["bash", "id", "ls"], "--postgresql")
    assert result.returncode == 1
    line = [text for text in result.stderr.splitlines() if "apt-get install" in text]
    assert len(line) == 1
    for package in ("chromium", "poppler-utils", "redis-server", "npm"):
        assert package in line[0]


def test_this_machine_has_everything_the_suite_needs():
    result = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
