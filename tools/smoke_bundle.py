"""Smoke-test the one-folder desktop build (``make bundle`` runs it after building).

    .venv/bin/python tools/smoke_bundle.py [dist/eczema-tracker/eczema-tracker]

Run with a Python that has torch and transformers (the checkout's .venv): it builds the tiny
test models there (tests/tiny_models.py, ``save_pretrained`` into a temp folder). The built
program then, with no Python of its own besides the bundle's and no network:

1. prints its version (must equal pyproject.toml's);
2. runs ``analyze`` on a shared photo (../shared/data/eczema_photos) and a shared HEIC photo
   (the HEIC codec) with the tiny models, one prompt (the photo itself with a painted square),
   and writes their masks;
3. opens its main window offscreen on a fresh store, keeps it open a few seconds, and exits
   with code 0 through its own close path (the bundle's smoke runtime hook closes the window
   when ECZEMA_TRACKER_SMOKE_QUIT_AFTER is set);
4. on Linux, carries ``libxcb-cursor.so.0`` (Qt's xcb plugin needs it; many desktops lack it).

Prints one line per check and ``smoke: N passed, 0 failed``; exits 1 on the first failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PROGRAM = REPO_ROOT / "dist" / "eczema-tracker" / "eczema-tracker"
SHARED_PHOTOS = REPO_ROOT.parent / "shared" / "data" / "eczema_photos" / "images"
#: a HEIC photo: proves the bundle carries the HEIC codec (pillow-heif and its libraries)
SHARED_HEIC = (
    REPO_ROOT.parent / "shared" / "data" / "odd_images" / "pillow_heif__L_exif_xmp_iptc.heic"
)
WINDOW_SECONDS = 3.0


class SmokeFailure(Exception):
    """One check of the built program failed; the message says which and why."""


def project_version() -> str:
    """The version pyproject.toml declares."""
    for line in (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8").splitlines():
        if line.startswith("version = "):
            return line.split('"')[1]
    raise SmokeFailure("pyproject.toml has no version line")


def isolated_env(base: Path, **extra: str) -> dict[str, str]:
    """An environment with private data/cache/config folders and no network."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(
        ECZEMA_TRACKER_DATA_DIR=str(base / "data"),
        ECZEMA_TRACKER_CACHE_DIR=str(base / "cache"),
        ECZEMA_TRACKER_CONFIG_DIR=str(base / "config"),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        QT_QPA_PLATFORM="offscreen",
    )
    env.update(extra)
    return env


def run(cmd: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    """Run the program; a time-out is a failure."""
    try:
        return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise SmokeFailure(f"{' '.join(cmd[1:3])} did not finish in {timeout:.0f} s") from exc


def check_version(program: Path, base: Path) -> str:
    done = run([str(program), "--version"], isolated_env(base), 120)
    expected = f"eczema-tracker {project_version()}"
    if done.returncode != 0 or done.stdout.strip() != expected:
        raise SmokeFailure(
            f"--version: exit {done.returncode}, {done.stdout!r} {done.stderr[-500:]}"
        )
    return done.stdout.strip()


def check_analyze(program: Path, base: Path) -> str:
    photos = sorted(SHARED_PHOTOS.rglob("*.jpg"))
    if not photos:
        raise SmokeFailure(f"no shared photos at {SHARED_PHOTOS}")
    sys.path.insert(0, str(REPO_ROOT))
    from PIL import Image

    from tests.tiny_models import make_tiny_dino, make_tiny_seggpt

    dino = make_tiny_dino(base / "tiny-dino")
    seggpt = make_tiny_seggpt(base / "tiny-seggpt")
    photo = photos[0]
    with Image.open(photo) as image:
        width, height = image.size
    mask = Image.new("L", (width, height), 0)
    mask.paste(255, (width // 4, height // 4, width * 3 // 4, height * 3 // 4))
    mask_file = base / "prompt-mask.png"
    mask.save(mask_file)
    out = base / "masks"
    if not SHARED_HEIC.is_file():
        raise SmokeFailure(f"no shared HEIC photo at {SHARED_HEIC}")
    cmd = [str(program), "analyze", str(photo), str(SHARED_HEIC)]
    cmd += ["--prompt", str(photo), str(mask_file)]
    cmd += ["--dino", str(dino), "--seggpt", str(seggpt), "--k", "1", "--out", str(out), "--json"]
    done = run(cmd, isolated_env(base), 300)
    if done.returncode != 0:
        raise SmokeFailure(f"analyze: exit {done.returncode}: {done.stderr[-1500:]}")
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    masks = list(out.glob("*.png"))
    if len(rows) != 2 or len(masks) != 2:
        raise SmokeFailure(f"analyze: expected two results and masks, got {done.stdout[-500:]!r}")
    return f"analysed {photo.name} and {SHARED_HEIC.name}: {len(masks)} masks"


def check_window(program: Path, base: Path) -> str:
    env = isolated_env(base / "gui", ECZEMA_TRACKER_SMOKE_QUIT_AFTER=str(WINDOW_SECONDS))
    started = time.perf_counter()
    done = run([str(program)], env, 180)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SmokeFailure(f"window: exit {done.returncode}: {done.stderr[-1500:]}")
    if "window shown" not in done.stderr:
        raise SmokeFailure(f"window: never shown: {done.stderr[-1500:]}")
    if "Traceback" in done.stderr:
        raise SmokeFailure(f"window: a traceback on the way: {done.stderr[-1500:]}")
    shown = [line for line in done.stderr.splitlines() if "window shown" in line][0]
    return f"{shown.split(': ', 1)[-1]}; closed cleanly after {took:.1f} s in all"


def check_xcb_libraries(program: Path, base: Path) -> str:
    """The build carries libxcb-cursor.so.0, so it opens on X11 desktops that lack it."""
    if not sys.platform.startswith("linux"):
        return "not Linux: no xcb plugin"
    carried = sorted(program.parent.rglob("libxcb-cursor.so.0*"))
    if not carried:
        raise SmokeFailure(
            "xcb: the build does not carry libxcb-cursor.so.0 (install libxcb-cursor0 on the "
            "build machine so PyInstaller collects it)"
        )
    return f"carries {carried[0].relative_to(program.parent)}"


def main(argv: list[str]) -> int:
    program = Path(argv[1]) if len(argv) > 1 else DEFAULT_PROGRAM
    if not program.is_file():
        print(f"smoke: error: no built program at {program}; run 'make bundle' first")
        return 2
    passed = 0
    with tempfile.TemporaryDirectory(prefix="eczema-smoke-") as tmp:
        for name, check in (
            ("version", check_version),
            ("analyze", check_analyze),
            ("window", check_window),
            ("xcb", check_xcb_libraries),
        ):
            base = Path(tmp) / name
            base.mkdir()
            started = time.perf_counter()
            try:
                detail = check(program, base)
            except SmokeFailure as exc:
                print(f"smoke {name}: FAILED: {exc}")
                print(f"smoke: {passed} passed, 1 failed")
                return 1
            passed += 1
            print(f"smoke {name}: ok ({time.perf_counter() - started:.1f} s) {detail}")
    print(f"smoke: {passed} passed, 0 failed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
