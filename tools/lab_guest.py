#!/usr/bin/env python3
"""Build the labs' guest: a Debian cloud kernel and a busybox initramfs, cached by their inputs.

    python3 tools/lab_guest.py build       build it unless an identical build is cached; print its folder
    python3 tools/lab_guest.py build --if-needed
                                           the same, but only where the labs can boot it (QEMU is
                                           installed, or CI=true); otherwise say why not and exit
                                           0; a failed build then fails only under CI
    python3 tools/lab_guest.py path        print the cached build's folder (exit 1 if there is none)
    python3 tools/lab_guest.py relock      pin the archive's current versions in tools/lab_guest/lock.json

What it downloads, and why (nothing binary is kept in git):

* the Debian 12 package ``linux-image-6.1.0-*-cloud-amd64`` (about 27 MB), for its kernel
  ``boot/vmlinuz-*`` and the modules virtio_net (the network card whose MAC address Lab L3
  compares) and virtio_balloon (the memory balloon of Labs L4 and L6), with the modules they
  depend on; Debian's "cloud" flavour is built for virtual machines, so it is small and boots
  quickly;
* the Debian 12 package ``busybox-static`` (about 1 MB): one static program that is the shell and
  every tool the guest's ``/init`` uses.

Both come through ``apt-get download`` (apt checks them against the archive's signed index) and
are unpacked with ``dpkg-deb -x``: nothing is installed on the host. The versions and SHA-256
sums are pinned in ``tools/lab_guest/lock.json``; a pinned version that the archive no longer
carries is replaced by the current one with a warning that names both (``--strict`` refuses
instead). The initramfs (``tools/lab_guest/init`` as ``/init``, busybox, the modules) is packed
with Debian's ``cpio`` in the kernel's "newc" format and gzip-compressed.

The result goes to ``$VIRTBOOK_GUEST_CACHE`` (default ``~/.cache/virtbook/lab-guest``), in a
folder named after a digest of the inputs (this file, the lock file and the init script): the
guest is rebuilt only when one of them changes. The folder holds ``vmlinuz``, ``initrd.gz`` and
``manifest.json`` (the versions and checksums actually used). Exit status: 0 on success, 1 when
the build fails (the reason is printed), 2 on a usage error.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "lab_guest"
LOCK = DATA / "lock.json"
INIT = DATA / "init"
CACHE_VARIABLE = "VIRTBOOK_GUEST_CACHE"
FORMAT = 1   # of manifest.json


class BuildError(Exception):
    """The guest cannot be built; the message says why and what to do."""


def inputs_key() -> str:
    """A digest of everything the build depends on: this tool, the lock file and /init."""
    digest = hashlib.sha256()
    for path in (Path(__file__).resolve(), LOCK, INIT):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def cache_root() -> Path:
    explicit = os.environ.get(CACHE_VARIABLE)
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "virtbook" / "lab-guest"


def build_dir() -> Path:
    return cache_root() / inputs_key()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cached() -> Path | None:
    """The cached build for the current inputs, if it is complete and intact."""
    folder = build_dir()
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    if manifest.get("format") != FORMAT or manifest.get("key") != inputs_key():
        return None
    for name in ("vmlinuz", "initrd.gz"):
        path = folder / name
        if not path.is_file() or _sha256(path) != manifest["files"].get(name):
            return None
    return folder


def _run(args: list[str], cwd: Path | None = None, what: str = "") -> str:
    try:
        run = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600)
    except FileNotFoundError:
        raise BuildError(f"'{args[0]}' is not installed: {what or 'it is needed to build the guest'}")
    if run.returncode != 0:
        lines = [line for line in (run.stderr or run.stdout).splitlines() if not line.startswith("W:")]
        raise BuildError(f"{' '.join(args[:3])} failed: {' '.join(lines[-3:]) or 'no message'}")
    return run.stdout


# ----------------------------------------------------------------------------------------------
# Downloading
# ----------------------------------------------------------------------------------------------

def _current(fallback: str) -> tuple[str, str]:
    """(package, version) the archive offers now for a lock entry's ``fallback`` name: the
    candidate of the package itself, or, for a metapackage, of the package it depends on."""
    shown = _run(["apt-cache", "show", "--no-all-versions", fallback], what="apt is needed")
    depends = re.search(r"^Depends: (linux-image-[^\s,(]+)", shown, re.M)
    if depends:
        return _current(depends.group(1))
    version = re.search(r"^Version: (\S+)", shown, re.M)
    if not version:
        raise BuildError(f"apt knows no version of {fallback}: run apt-get update")
    return fallback, version.group(1)


def _download(entry: dict, into: Path, strict: bool, log) -> dict:
    """Download one locked package into ``into``; return what was used."""
    name, version = entry["name"], entry["version"]
    before = set(into.iterdir())
    try:
        _run(["apt-get", "download", "-q", f"{name}={version}"], cwd=into,
             what="apt-get downloads the Debian packages")
        pinned = True
    except BuildError as err:
        if strict:
            raise BuildError(f"the pinned {name} {version} cannot be downloaded ({err}); run "
                             "apt-get update, or pin the archive's current version with "
                             "python3 tools/lab_guest.py relock")
        name, version = _current(entry["fallback"])
        log(f"warning: the pinned {entry['name']} {entry['version']} is not in the archive any "
            f"more; using {name} {version} instead (pin it with: python3 tools/lab_guest.py relock)")
        _run(["apt-get", "download", "-q", f"{name}={version}"], cwd=into)
        pinned = False
    new = sorted(set(into.iterdir()) - before)
    if len(new) != 1:
        raise BuildError(f"apt-get download of {name} left {len(new)} files, expected one")
    deb = new[0]
    digest = _sha256(deb)
    if pinned and digest != entry["sha256"]:
        raise BuildError(f"{deb.name} has SHA-256 {digest}, but tools/lab_guest/lock.json pins "
                         f"{entry['sha256']}: the archive's copy changed; check it, then relock")
    return {"name": name, "version": version, "sha256": digest, "bytes": deb.stat().st_size,
            "pinned": pinned, "deb": deb}


# ----------------------------------------------------------------------------------------------
# Modules: the listed ones and what they depend on, in loading order
# ----------------------------------------------------------------------------------------------

def _module_files(tree: Path) -> dict[str, Path]:
    files = {}
    for path in tree.glob("lib/modules/*/kernel/**/*.ko*"):
        name = path.name.split(".ko")[0].replace("-", "_")
        files[name] = path
    return files


def _module_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if path.name.endswith(".ko"):
        return data
    if path.name.endswith(".ko.xz"):
        import lzma
        return lzma.decompress(data)
    raise BuildError(f"module {path.name} is compressed in a format this tool does not unpack")


def _depends(data: bytes) -> list[str]:
    """A module's dependencies, from the ``depends=`` string in its .modinfo section."""
    match = re.search(rb"(?:^|\0)depends=([^\0]*)\0", data)
    if not match or not match.group(1):
        return []
    return [d.replace("-", "_") for d in match.group(1).decode().split(",") if d]


def module_order(tree: Path, wanted: list[str]) -> list[tuple[str, bytes]]:
    """The wanted modules with their dependencies, each after what it needs."""
    files = _module_files(tree)
    order: list[tuple[str, bytes]] = []
    done: set[str] = set()

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if name in done:
            return
        if name in chain:
            raise BuildError(f"modules depend on each other in a circle: {' -> '.join(chain)}")
        if name not in files:
            raise BuildError(f"the kernel package has no module {name}: the guest cannot have "
                             "this driver (pin a kernel that builds it as a module)")
        data = _module_bytes(files[name])
        for dep in _depends(data):
            visit(dep, chain + (name,))
        done.add(name)
        order.append((name, data))

    for name in wanted:
        visit(name, ())
    return order


# ----------------------------------------------------------------------------------------------
# Packing
# ----------------------------------------------------------------------------------------------

def _stage(root: Path, busybox: Path, modules: list[tuple[str, bytes]]) -> None:
    for sub in ("bin", "dev", "etc", "lib/modules", "proc", "run", "sys", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(busybox, root / "bin" / "busybox")
    (root / "bin" / "busybox").chmod(0o755)
    shutil.copyfile(INIT, root / "init")
    (root / "init").chmod(0o755)
    (root / "etc" / "modules").write_text("".join(name + "\n" for name, _ in modules))
    for name, data in modules:
        (root / "lib" / "modules" / f"{name}.ko").write_bytes(data)


def _pack(root: Path, out: Path) -> bool:
    """cpio (newc) of ``root`` into ``out``, gzip'd; True if it holds a /dev/console node."""
    console = "dev/console"
    script = ("set -e; cd \"$1\"; mknod -m 600 dev/console c 5 1; "
              "find . -mindepth 1 -exec touch -h -d @0 {} +; "
              "find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible")
    if os.geteuid() == 0:
        args = ["sh", "-c", script, "sh", str(root)]
    elif shutil.which("fakeroot"):
        args = ["fakeroot", "sh", "-c", script, "sh", str(root)]
    else:   # no device node: /init opens the console itself once devtmpfs is mounted
        console = ""
        args = ["sh", "-c", script.replace("mknod -m 600 dev/console c 5 1; ", ""), "sh", str(root)]
    if shutil.which("cpio") is None:
        raise BuildError("Debian's cpio is not installed: apt-get install cpio "
                         "(tools/system_deps.sh host installs it)")
    run = subprocess.run(args, capture_output=True, timeout=300)
    if run.returncode != 0:
        raise BuildError("packing the initramfs failed: " + run.stderr.decode(errors="replace")[-300:])
    with out.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=9) as gz:
        gz.write(run.stdout)
    return bool(console)


def build(*, strict: bool = False, log=print) -> Path:
    """Build the guest unless an intact build for the current inputs is cached; return its folder."""
    hit = cached()
    if hit is not None:
        return hit
    lock = json.loads(LOCK.read_text())
    folder = build_dir()
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lab-guest-", dir=folder.parent) as tmp:
        work = Path(tmp)
        debs = work / "debs"
        debs.mkdir()
        used = [_download(entry, debs, strict, log) for entry in lock["packages"]]
        tree = work / "tree"
        for pkg in used:
            _run(["dpkg-deb", "-x", str(pkg.pop("deb")), str(tree)], what="dpkg-deb unpacks .deb files")
        kernels = sorted(tree.glob("boot/vmlinuz-*"))
        busybox = tree / "bin" / "busybox"
        if len(kernels) != 1 or not busybox.is_file():
            raise BuildError("the packages do not hold one boot/vmlinuz-* and bin/busybox")
        modules = module_order(tree, lock["modules"])
        stage = work / "initramfs"
        _stage(stage, busybox, modules)
        out = work / "out"
        out.mkdir()
        shutil.copyfile(kernels[0], out / "vmlinuz")
        console_node = _pack(stage, out / "initrd.gz")
        manifest = {
            "format": FORMAT, "key": inputs_key(),
            "kernel": kernels[0].name.removeprefix("vmlinuz-"),
            "packages": used,
            "modules": [name for name, _ in modules],
            "console_node": console_node,
            "files": {name: _sha256(out / name) for name in ("vmlinuz", "initrd.gz")},
            "bytes": {name: (out / name).stat().st_size for name in ("vmlinuz", "initrd.gz")},
        }
        (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
        for path in out.iterdir():
            path.chmod(0o644)
        out.chmod(0o755)
        if folder.exists():
            shutil.rmtree(folder)
        out.rename(folder)
    _prune(folder)
    return folder


def _prune(keep: Path) -> None:
    """Remove older builds (folders of this tool with another key) next to ``keep``."""
    for other in keep.parent.iterdir():
        if other != keep and other.is_dir() and (other / "manifest.json").is_file():
            shutil.rmtree(other, ignore_errors=True)


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def needed() -> str | None:
    """None when the labs can boot a guest here, else why the build is skipped."""
    if _in_ci():
        return None
    if shutil.which("qemu-system-x86_64") is None:
        return "QEMU is not installed, so the labs run on libvirt's test driver, which needs no guest"
    return None


def relock(log=print) -> None:
    lock = json.loads(LOCK.read_text())
    with tempfile.TemporaryDirectory(prefix="lab-guest-lock-") as tmp:
        for entry in lock["packages"]:
            name, version = _current(entry["fallback"])
            got = _download({**entry, "name": name, "version": version}, Path(tmp), True, log)
            entry.update(name=name, version=version, sha256=got["sha256"])
            log(f"pinned {name} {version} {got['sha256']}")
    LOCK.write_text(json.dumps(lock, indent=1) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["build", "path", "relock"])
    parser.add_argument("--if-needed", action="store_true",
                        help="build only where the labs can boot a guest")
    parser.add_argument("--strict", action="store_true",
                        help="refuse to replace a pinned version the archive no longer has")
    args = parser.parse_args(argv)
    def log(text: str) -> None:
        print("lab guest:", text, file=sys.stderr)

    try:
        if args.command == "path":
            hit = cached()
            if hit is None:
                log("not built yet for these inputs: run python3 tools/lab_guest.py build")
                return 1
            print(hit)
        elif args.command == "relock":
            relock(log)
        else:
            reason = needed() if args.if_needed else None
            if reason:
                log(f"not built: {reason}")
                return 0
            hit = cached()
            folder = hit or build(strict=args.strict, log=log)
            log(("up to date in " if hit else "built in ") + str(folder))
            print(folder)
    except BuildError as err:
        log(f"cannot build the guest: {err}")
        if args.if_needed and not _in_ci():
            log("the labs on a real host will say how to build it; the test driver needs none")
            return 0
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
