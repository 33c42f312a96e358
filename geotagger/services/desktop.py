"""Install the launcher, metainfo and icons for the current user, so a pip or pipx install shows up in
the desktop's application menu and in "Open with" on folders (XDG data folders, no root needed).

The files ship in ``resources/desktop``; install copies them under ``$XDG_DATA_HOME`` (default
``~/.local/share``) with ``Exec`` pointing at this installation, and uninstall removes exactly those.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from geotagger.errors import GeotaggerError, NotFoundError
from geotagger.paths import ENV_XDG_DATA_HOME, env, resources_dir

APP_ID = "io.github.geotagger.Geotagger"


@dataclass
class DesktopReport:
    """What install/uninstall did, for the command to print."""

    data_home: Path
    files: list[Path] = field(default_factory=list)
    exec_command: str = ""
    notes: list[str] = field(default_factory=list)


def data_home() -> Path:
    """$XDG_DATA_HOME when set to an absolute path (the spec ignores relative ones), else ~/.local/share."""
    value = env(ENV_XDG_DATA_HOME) or ""
    if value and Path(value).is_absolute():
        return Path(value)
    return Path.home() / ".local" / "share"


def source_dir() -> Path:
    """The shipped desktop files."""
    return resources_dir() / "desktop"


def exec_command() -> str:
    """The command line the launcher runs: the installed ``geotagger`` script, or this interpreter with
    ``-m geotagger`` when the script is not on PATH (a venv that is not activated); in the
    self-contained bundle, its own executable."""
    if getattr(sys, "frozen", False):
        return _exec_quote(str(Path(sys.executable).resolve()))
    script = shutil.which("geotagger")
    parts = [str(Path(script).resolve())] if script else [sys.executable, "-m", "geotagger"]
    return " ".join(_exec_quote(part) for part in parts)


def _exec_quote(arg: str) -> str:
    """Quote one argument the way the Desktop Entry spec wants (double quotes, backslash escapes)."""
    if arg and not any(ch in arg for ch in " \t\n\"'\\><~|&;$*?#()`="):
        return arg
    escaped = "".join("\\" + ch if ch in '"`$\\' else ch for ch in arg)
    # In a desktop file's string value a backslash itself is escaped once more.
    return '"' + escaped.replace("\\", "\\\\") + '"'


def planned_files(home: Path | None = None) -> list[tuple[Path, Path]]:
    """(shipped file, target) pairs: the same list for install and uninstall."""
    home = home or data_home()
    src = source_dir()
    icons = src / "icons"
    pairs = [
        (src / f"{APP_ID}.desktop", home / "applications" / f"{APP_ID}.desktop"),
        (src / f"{APP_ID}.metainfo.xml", home / "metainfo" / f"{APP_ID}.metainfo.xml"),
        (icons / f"{APP_ID}.svg", home / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"),
    ]
    for png in sorted(icons.glob(f"*/{APP_ID}.png")):
        pairs.append((png, home / "icons" / "hicolor" / png.parent.name / "apps" / png.name))
    return pairs


def _desktop_entry(template: str, command: str) -> str:
    """The shipped entry with Exec (and TryExec, when it is one program) pointing at this install."""
    lines = []
    for line in template.splitlines():
        if line.startswith("Exec="):
            line = f"Exec={command} gui %f"
        elif line.startswith("TryExec="):
            program = shlex.split(command)[0] if " " in command else command
            line = f"TryExec={program}" if not command.startswith('"') else ""
        if line:
            lines.append(line)
    return "\n".join(lines) + "\n"


def install(home: Path | None = None, refresh: bool = True) -> DesktopReport:
    """Copy launcher, metainfo and icons into the user's XDG data folders, then refresh the caches."""
    home = home or data_home()
    pairs = planned_files(home)
    missing = [str(src) for src, _ in pairs if not src.is_file()]
    if missing or len(pairs) < 4:
        raise NotFoundError(f"the desktop files are missing from this installation: {source_dir()}")
    report = DesktopReport(home, exec_command=exec_command())
    try:
        for src, target in pairs:
            target.parent.mkdir(parents=True, exist_ok=True)
            if src.suffix == ".desktop":
                text = _desktop_entry(src.read_text(encoding="utf-8"), report.exec_command)
                target.write_text(text, encoding="utf-8")
            else:
                shutil.copyfile(src, target)
            report.files.append(target)
    except OSError as exc:
        raise GeotaggerError(f"cannot install the desktop files into {home}: {exc}") from exc
    if refresh:
        report.notes += _refresh_caches(home)
    return report


def uninstall(home: Path | None = None, refresh: bool = True) -> DesktopReport:
    """Remove what install wrote (and the folders it left empty), then refresh the caches."""
    home = home or data_home()
    report = DesktopReport(home)
    for _src, target in planned_files(home):
        if target.is_file() or target.is_symlink():
            target.unlink()
            report.files.append(target)
            _remove_empty_parents(target.parent, home)
    if refresh:
        report.notes += _refresh_caches(home)
    _drop_empty_mime_cache(home / "applications", home)
    return report


def _remove_empty_parents(folder: Path, stop: Path) -> None:
    """rmdir upwards while empty, never at or above the data home."""
    while folder != stop and stop in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def _drop_empty_mime_cache(applications: Path, home: Path) -> None:
    """update-desktop-database leaves a mimeinfo.cache; with no entries left it describes nothing."""
    cache = applications / "mimeinfo.cache"
    if cache.is_file() and not any(applications.glob("*.desktop")):
        entries = [line for line in cache.read_text(errors="replace").splitlines()[1:] if line.strip()]
        if not entries:
            cache.unlink()
            _remove_empty_parents(applications, home)


def _refresh_caches(home: Path) -> list[str]:
    """Run the desktop's cache tools when present; without them the menu still finds the files
    (more slowly, or after the next login), so their absence is only reported."""
    notes = []
    applications = home / "applications"
    notes.append(_run_tool("update-desktop-database", ["-q", str(applications)], applications.is_dir()))
    hicolor = home / "icons" / "hicolor"
    # Only refresh a cache that exists (or a theme with an index): a cache created here would hide
    # icons that other programs later install without updating it.
    has_cache = (hicolor / "icon-theme.cache").is_file() or (hicolor / "index.theme").is_file()
    notes.append(_run_tool("gtk-update-icon-cache", ["-q", "-f", "-t", str(hicolor)], has_cache))
    return [note for note in notes if note]


def _run_tool(name: str, args: list[str], wanted: bool) -> str:
    if not wanted:
        return ""
    program = shutil.which(name)
    if program is None:
        return f"{name} not found: skipped (the launcher works without it)"
    result = subprocess.run([program, *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        return f"{name} failed: {detail[-1] if detail else result.returncode}"
    return f"ran {name}"
