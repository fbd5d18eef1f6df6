"""Install the pinned torch into a virtual environment, choosing the build that fits this machine.

    .venv/bin/python tools/install_torch.py "torch==2.13.0" [pip arguments ...]

``make run``/``make test`` call it before anything else, so pip never resolves an unpinned torch.
With pip arguments (``make run TORCH_PIP_ARGS="--index-url ..."``) they are used exactly as given.
Without them:

- Linux without an NVIDIA GPU: PyPI's Linux torch wheel is the CUDA build (gigabytes of NVIDIA
  libraries that such a machine cannot use), so PyTorch's CPU wheel index is used when it answers
  within a few seconds; when it cannot be reached (offline, or only PyPI reachable), the default
  index is used, and what was installed is said.
- Elsewhere (macOS, Windows, Linux with an NVIDIA GPU): the default index.

It says what it installs and roughly how big it is, shows pip's progress, and ends by naming the
build that was installed (CPU, CUDA version).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PROBE_SECONDS = 5.0


def has_nvidia_gpu() -> bool:
    """True when an NVIDIA driver is loaded or its tool is on the PATH."""
    return Path("/proc/driver/nvidia/version").exists() or shutil.which("nvidia-smi") is not None


def index_answers(url: str, timeout: float = PROBE_SECONDS) -> bool:
    """Whether ``url`` answers within ``timeout`` seconds (any HTTP answer counts)."""
    try:
        with urllib.request.urlopen(f"{url}/torch/", timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False


def pip_arguments(requirement: str, extra: list[str]) -> tuple[list[str], str]:
    """The pip arguments for ``requirement`` and a sentence saying which build they choose."""
    if extra:
        return [requirement, *extra], "with the pip arguments you gave"
    if not sys.platform.startswith("linux"):
        return [requirement], "from the default index (this platform's build)"
    if has_nvidia_gpu():
        return [requirement], "from the default index (the CUDA build: an NVIDIA GPU is present)"
    if index_answers(CPU_INDEX):
        return (
            [requirement, "--index-url", CPU_INDEX],
            f"the CPU build from {CPU_INDEX} (no NVIDIA GPU here, about 200 MB)",
        )
    return (
        [requirement],
        f"from the default index: {CPU_INDEX} could not be reached; on Linux this may be the "
        "CUDA build (several GB) unless a CPU wheel is available locally",
    )


def installed_build() -> str:
    """The torch version in this environment and the build it is (CPU or a CUDA version)."""
    code = "import torch; print(torch.__version__, torch.version.cuda or 'cpu')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode != 0:
        return "torch could not be imported"
    version, cuda = done.stdout.split()
    return f"torch {version}, " + ("CPU build" if cuda == "cpu" else f"CUDA {cuda} build")


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    requirement, extra = argv[0], argv[1:]
    args, how = pip_arguments(requirement, extra)
    print(f"Installing {requirement} {how} ...", flush=True)
    env = {**os.environ, "PIP_PROGRESS_BAR": "on"}
    done = subprocess.run([sys.executable, "-m", "pip", "install", *args], env=env)
    if done.returncode != 0:
        return done.returncode
    print(f"Installed {installed_build()}.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
