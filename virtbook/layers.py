"""A small model of container image layers, a content-addressed layer store and copy-on-write.

It follows the specifications and documentation that real engines implement:

* **Layers are filesystem changesets.** OCI Image Format Specification, ``layer.md``: a layer
  holds the files added or modified relative to the layers below it, and deletions as
  *whiteout* entries named ``.wh.<name>``; an *opaque whiteout* ``.wh..wh..opq`` in a directory
  hides everything lower layers put there. Whiteouts apply only to lower layers, and names
  starting with ``.wh.`` cannot be ordinary files.
  https://github.com/opencontainers/image-spec/blob/main/layer.md
* **Layers are content-addressed.** OCI ``descriptor.md``: content is identified by a digest
  ``algorithm:encoded``, implementations SHOULD use SHA-256, and identical bytes give the
  identical digest, so a store keeps a shared layer once.
* **Union view and copy-up.** Docker documentation, "Storage drivers" (sections "Container and
  layers" and "The copy-on-write (CoW) strategy"): a container adds a thin writable layer on top
  of the read-only image layers; the first time it modifies a file from a lower layer the
  ``overlay2`` driver copies the file up into the writable layer (``copy_up``), and a change of
  metadata only (e.g. permissions) copies it up too. Files deleted by an upper layer still take
  space in the lower layer that holds them.
  https://docs.docker.com/engine/storage/drivers/
* **The VM alternatives.** A full VM clone copies the whole disk image; a qcow2 image created
  with a backing file "will record only the differences from" it (QEMU documentation,
  ``qemu-img create -b``), which is how linked clones share a base.
  https://www.qemu.org/docs/master/tools/qemu-img.html

The file tree here is a model: a layer digest is SHA-256 over a canonical listing of its
entries (path, size and content digest of each file, and its whiteouts), not over real tar
bytes, which keeps the property that matters (same content, same digest) and nothing else.

    >>> base = Layer.of({"etc/os-release": 200, "bin/sh": 1000})
    >>> app = Layer.of({"app/main.py": 50}, whiteouts=["etc/os-release"])
    >>> img = Image("demo:1", (base, app))
    >>> sorted(img.rootfs())
    ['app/main.py', 'bin/sh']
    >>> img.size, img.flattened_size
    (1250, 1050)
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterable, Mapping, Sequence

import numpy as np

from ._validate import check_choice, check_int, check_real

#: OCI whiteout prefix (image-spec layer.md, "Whiteouts").
WHITEOUT_PREFIX = ".wh."

#: Architecture names an image index may use (OCI image-index.md refers to Go's GOARCH values);
#: the subset that official images are commonly built for.
ARCHITECTURES = ("amd64", "arm64", "arm", "386", "ppc64le", "s390x", "riscv64")

_MAX_SIZE = 2**63 - 1


def _check_path(path: str, name: str = "path") -> str:
    if not isinstance(path, str) or not path or path.startswith("/") or path.endswith("/"):
        raise ValueError(f"{name} must be a relative file path like 'etc/hosts', got {path!r}")
    parts = path.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"{name} must not contain empty, '.' or '..' components, got {path!r}")
    if any(p.startswith(WHITEOUT_PREFIX) for p in parts):
        raise ValueError(f"{name} must not use the reserved whiteout prefix '{WHITEOUT_PREFIX}', "
                         f"got {path!r}")
    return path


def _under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory + "/")


@dataclass(frozen=True)
class File:
    """A regular file in a layer: where it is, how big, and a digest standing in for its bytes."""

    path: str
    size: int
    content: str

    def __post_init__(self) -> None:
        _check_path(self.path)
        check_int("size", self.size, 0, _MAX_SIZE)
        if not isinstance(self.content, str) or not self.content:
            raise ValueError(f"content must be a non-empty digest string, got {self.content!r}")


def content_digest(*parts: object) -> str:
    """A SHA-256 digest ('sha256:<hex>') of the given parts, standing in for file bytes."""
    return "sha256:" + hashlib.sha256("\x00".join(map(str, parts)).encode()).hexdigest()


@dataclass(frozen=True)
class Layer:
    """An OCI-style changeset: files added or replaced, paths whited out, directories made opaque.

    ``created_by`` is build history (like a Dockerfile line); it is not part of the content, so
    two builds that produce the same files produce the same digest.
    """

    files: tuple[File, ...]
    whiteouts: tuple[str, ...] = ()
    opaque_dirs: tuple[str, ...] = ()
    created_by: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        paths = [f.path for f in self.files]
        if len(paths) != len(set(paths)):
            dup = sorted({p for p in paths if paths.count(p) > 1})
            raise ValueError(f"files must have distinct paths within a layer, got duplicates {dup}")
        for p in self.whiteouts:
            _check_path(p, "whiteouts")
        for d in self.opaque_dirs:
            _check_path(d, "opaque_dirs")
        clash = sorted(set(paths) & set(self.whiteouts))
        if clash:
            raise ValueError(f"whiteouts must not name a file the same layer adds, got {clash}")

    @classmethod
    def of(cls, sizes: Mapping[str, int], whiteouts: Iterable[str] = (),
           opaque_dirs: Iterable[str] = (), created_by: str = "", salt: str = "") -> "Layer":
        """Build a layer from {path: size}; content digests derive from (salt, path, size)."""
        files = tuple(File(p, check_int("size", s, 0, _MAX_SIZE), content_digest(salt, p, s))
                      for p, s in sizes.items())
        return cls(files, tuple(whiteouts), tuple(opaque_dirs), created_by)

    @property
    def size(self) -> int:
        """Bytes the layer occupies in a store (whiteouts are empty files: 0 bytes)."""
        return sum(f.size for f in self.files)

    @cached_property
    def digest(self) -> str:
        """Content address: SHA-256 over a canonical listing of the changeset."""
        listing = ([["F", f.path, f.size, f.content] for f in sorted(self.files, key=lambda f: f.path)]
                   + [["W", p] for p in sorted(self.whiteouts)]
                   + [["O", d] for d in sorted(self.opaque_dirs)])
        return "sha256:" + hashlib.sha256(json.dumps(listing).encode()).hexdigest()

    def short(self) -> str:
        return self.digest[7:19]


def apply_layer(tree: dict[str, File], layer: Layer) -> dict[str, File]:
    """Apply one changeset to a file tree (OCI layer.md "Applying Changesets"), returning a new tree.

    Opaque whiteouts and whiteouts act on what lies below; the layer's own files then go on top.
    """
    out = dict(tree)
    for d in layer.opaque_dirs:
        for p in [p for p in out if p.startswith(d + "/")]:
            del out[p]
    for w in layer.whiteouts:
        for p in [p for p in out if _under(p, w)]:
            del out[p]
    directories = {p[:i] for p in out for i, ch in enumerate(p) if ch == "/"}
    for f in layer.files:
        if f.path in directories:  # a file replaces a directory of the same name
            for p in [p for p in out if p.startswith(f.path + "/")]:
                del out[p]
        out[f.path] = f
    return out


@dataclass(frozen=True)
class Image:
    """An image: a name, an ordered stack of layers (base first) and the architecture it runs on."""

    name: str
    layers: tuple[Layer, ...]
    architecture: str = "amd64"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"name must be a non-empty image reference like 'app:1', got {self.name!r}")
        if not self.layers or not all(isinstance(layer, Layer) for layer in self.layers):
            raise ValueError("layers must be a non-empty sequence of Layer objects, base first")
        check_choice("architecture", self.architecture, ARCHITECTURES)

    def rootfs(self) -> dict[str, File]:
        """The union view: layers applied bottom to top; the upper-most version of a path wins."""
        tree: dict[str, File] = {}
        for layer in self.layers:
            tree = apply_layer(tree, layer)
        return tree

    @property
    def size(self) -> int:
        """Bytes of all layers: what a pull downloads into an empty store and what it keeps."""
        return sum(layer.size for layer in self.layers)

    @cached_property
    def flattened_size(self) -> int:
        """Bytes of the files a container actually sees: what a full copy (a VM disk) needs."""
        return sum(f.size for f in self.rootfs().values())

    @property
    def digests(self) -> tuple[str, ...]:
        return tuple(layer.digest for layer in self.layers)


@dataclass(frozen=True)
class PullReport:
    """What one pull did: layers fetched, layers already present, bytes downloaded."""

    image: str
    fetched: tuple[str, ...]
    reused: tuple[str, ...]
    bytes_downloaded: int


class LayerStore:
    """A content-addressed layer store: each distinct digest is kept once, with a reference count.

    This is what lets ten images built ``FROM`` the same base keep one copy of it, and what
    makes a second pull download only the layers that changed (Docker "Storage drivers",
    "Sharing promotes smaller images").
    """

    def __init__(self) -> None:
        self._layers: dict[str, Layer] = {}
        self._refs: dict[str, int] = {}
        self.images: dict[str, Image] = {}

    def pull(self, image: Image) -> PullReport:
        """Add an image's layers, fetching only the digests not yet stored."""
        if not isinstance(image, Image):
            raise ValueError(f"image must be an Image, got {type(image).__name__}")
        if image.name in self.images:
            raise ValueError(f"image name {image.name!r} is already in the store")
        fetched, reused, downloaded = [], [], 0
        for layer in image.layers:
            d = layer.digest
            if d in self._layers:
                reused.append(d)
            else:
                self._layers[d] = layer
                fetched.append(d)
                downloaded += layer.size
            self._refs[d] = self._refs.get(d, 0) + 1
        self.images[image.name] = image
        return PullReport(image.name, tuple(fetched), tuple(reused), downloaded)

    def remove(self, name: str) -> int:
        """Remove an image; layers no other image uses are freed. Returns bytes freed."""
        if name not in self.images:
            raise ValueError(f"name must be an image in the store ({sorted(self.images)}), got {name!r}")
        freed = 0
        for layer in self.images.pop(name).layers:
            d = layer.digest
            self._refs[d] -= 1
            if self._refs[d] == 0:
                freed += self._layers.pop(d).size
                del self._refs[d]
        return freed

    def __contains__(self, digest: object) -> bool:
        return digest in self._layers

    def __len__(self) -> int:
        return len(self._layers)

    def refcount(self, digest: str) -> int:
        return self._refs.get(digest, 0)

    @property
    def stored_bytes(self) -> int:
        return sum(layer.size for layer in self._layers.values())


class Container:
    """A running container's filesystem: read-only image layers plus a thin writable layer.

    Writes follow overlay2's copy-on-write: modifying (or chmod-ing) a file that lives in a lower
    layer first copies it up whole (the model leaves out OverlayFS's optional ``metacopy``
    feature, which copies only the metadata on chmod; kernel Documentation/filesystems/
    overlayfs.rst, "Metadata only copy up"); creating a file writes only the new bytes; deleting a lower
    file leaves a whiteout. ``trace`` records each step so a student can check it by hand.
    Starting a container copies nothing: the writable layer starts empty.
    """

    def __init__(self, image: Image, name: str = "c1") -> None:
        if not isinstance(image, Image):
            raise ValueError(f"image must be an Image, got {type(image).__name__}")
        self.image = image
        self.name = name
        self._lower = image.rootfs()
        self.upper: dict[str, File] = {}
        self.whiteouts: set[str] = set()
        self.copy_ups = 0
        self.copied_up_bytes = 0
        self.trace: list[str] = [f"{name}: start from {image.name}, writable layer empty (0 B copied)"]
        self._serial = 0

    def _lower_file(self, path: str) -> File | None:
        if path in self.whiteouts:
            return None
        return self._lower.get(path)

    def read(self, path: str) -> File:
        """The file the container sees at ``path``: upper layer first, then the image."""
        _check_path(path)
        if path in self.upper:
            return self.upper[path]
        found = self._lower_file(path)
        if found is None:
            raise FileNotFoundError(path)
        return found

    def exists(self, path: str) -> bool:
        try:
            self.read(path)
            return True
        except FileNotFoundError:
            return False

    def _new_content(self, path: str, size: int) -> str:
        self._serial += 1
        return content_digest(self.name, path, size, self._serial)

    def _copy_up(self, path: str) -> File:
        lower = self._lower_file(path)
        assert lower is not None
        self.copy_ups += 1
        self.copied_up_bytes += lower.size
        self.trace.append(f"{self.name}: copy_up {path} ({lower.size} B) from the image")
        return lower

    def write(self, path: str, size: int) -> None:
        """Replace the contents of ``path`` with ``size`` new bytes (creating it if absent)."""
        _check_path(path)
        check_int("size", size, 0, _MAX_SIZE)
        if path not in self.upper and self._lower_file(path) is not None:
            self._copy_up(path)
        elif path not in self.upper:
            self.trace.append(f"{self.name}: create {path} in the writable layer")
        self.upper[path] = File(path, size, self._new_content(path, size))
        self.trace.append(f"{self.name}: write {path} -> {size} B")

    def chmod(self, path: str) -> None:
        """Change metadata only; a file from the image is still copied up whole (as OverlayFS
        does without ``metacopy``)."""
        current = self.read(path)
        if path not in self.upper:
            self._copy_up(path)
            self.upper[path] = File(path, current.size, current.content)
        self.trace.append(f"{self.name}: chmod {path}")

    def delete(self, path: str) -> None:
        """Delete ``path``; a file from the image is hidden by a whiteout, not removed from it."""
        self.read(path)  # FileNotFoundError if it does not exist
        self.upper.pop(path, None)
        if path in self._lower:
            self.whiteouts.add(path)
            self.trace.append(f"{self.name}: delete {path} -> whiteout (image bytes stay)")
        else:
            self.trace.append(f"{self.name}: delete {path} from the writable layer")

    def view(self) -> dict[str, File]:
        tree = {p: f for p, f in self._lower.items() if p not in self.whiteouts}
        tree.update(self.upper)
        return tree

    @property
    def upper_bytes(self) -> int:
        """Bytes in this container's writable layer (its own, unshared data)."""
        return sum(f.size for f in self.upper.values())


# --------------------------------------------------------------------------------------------
# A seeded family of images, and storage/start cost for N instances
# --------------------------------------------------------------------------------------------

def synthetic_layer(rng: np.random.Generator, prefix: str, n_files: int, total_bytes: int,
                    created_by: str = "", sigma: float = 1.5) -> Layer:
    """A layer of ``n_files`` files under ``prefix`` whose sizes are log-normal and sum to about
    ``total_bytes`` (file sizes in real trees are heavy-tailed: many small, a few large)."""
    n_files = check_int("n_files", n_files, 1, 100_000)
    total_bytes = check_int("total_bytes", total_bytes, 0, _MAX_SIZE)
    if total_bytes < n_files:
        raise ValueError(f"total_bytes must be at least n_files ({n_files}), got {total_bytes}")
    check_real("sigma", sigma, 0.0, 4.0, lo_open=True)
    raw = rng.lognormal(mean=0.0, sigma=sigma, size=n_files)
    sizes = np.maximum(1, np.floor(raw / raw.sum() * total_bytes)).astype(np.int64)
    names = {f"{prefix}/f{i:05d}": int(s) for i, s in enumerate(sizes)}
    return Layer.of(names, created_by=created_by, salt=f"{prefix}:{int(rng.integers(2**31))}")


@dataclass(frozen=True)
class ImageFamily:
    """Images that share a base: OS layer, runtime layer, then one small layer per application."""

    base: Layer
    runtime: Layer
    images: tuple[Image, ...]


MB = 10**6


def make_family(seed: int = 7, n_apps: int = 4, base_mb: float = 80.0, runtime_mb: float = 45.0,
                app_mb: tuple[float, float] = (1.0, 6.0)) -> ImageFamily:
    """A deterministic family of ``n_apps`` images built FROM one base and one runtime layer.

    Sizes are illustrative (a distribution base of tens of MB, a language runtime, small
    application layers); only their ratios matter for the comparison.
    """
    seed = check_int("seed", seed, 0)
    n_apps = check_int("n_apps", n_apps, 1, 50)
    check_real("base_mb", base_mb, 0.01, 100_000)
    check_real("runtime_mb", runtime_mb, 0.01, 100_000)
    lo, hi = app_mb
    if not 0.01 <= lo <= hi <= 100_000:
        raise ValueError(f"app_mb must be (low, high) with 0.01 <= low <= high <= 100000, got {app_mb!r}")
    rng = np.random.default_rng(seed)
    base = synthetic_layer(rng, "usr/lib/os", 400, int(base_mb * MB), "ADD rootfs.tar.gz /")
    runtime = synthetic_layer(rng, "usr/lib/runtime", 200, int(runtime_mb * MB), "RUN install runtime")
    images = []
    for i in range(n_apps):
        size = int(rng.uniform(lo, hi) * MB)
        app = synthetic_layer(rng, f"app{i}", 20, size, f"COPY app{i} /app{i}")
        images.append(Image(f"app{i}:1", (base, runtime, app)))
    return ImageFamily(base, runtime, tuple(images))


@dataclass(frozen=True)
class FleetCost:
    """Disk bytes and start-up copy bytes for ``n`` instances of a set of images."""

    n: int
    containers: int
    vm_full: int
    vm_linked: int
    start_copy_container: int
    start_copy_vm_full: int
    start_copy_vm_linked: int


def fleet_cost(images: Sequence[Image], n: int, delta_bytes: int = 0,
               vm_extra_bytes: int = 0) -> FleetCost:
    """Storage for ``n`` instances assigned round-robin to ``images``.

    * containers: every distinct layer once (content-addressed store) plus each container's
      writable layer of ``delta_bytes``;
    * VMs, full copies: each VM a full disk holding the flattened image plus ``vm_extra_bytes``
      (a guest kernel, modules, boot loader a container does not need), plus its ``delta_bytes``;
    * VMs, linked clones: one base disk per distinct image (qcow2 backing file) plus a per-VM
      overlay of ``delta_bytes``.

    Start cost counts bytes copied before an instance can run: 0 for a container and a linked
    clone (an empty top layer or overlay), a whole disk for a full clone.
    """
    if not images or not all(isinstance(i, Image) for i in images):
        raise ValueError("images must be a non-empty sequence of Image objects")
    n = check_int("n", n, 0, 1_000_000)
    delta_bytes = check_int("delta_bytes", delta_bytes, 0, _MAX_SIZE)
    vm_extra_bytes = check_int("vm_extra_bytes", vm_extra_bytes, 0, _MAX_SIZE)
    counts = [n // len(images) + (1 if i < n % len(images) else 0) for i in range(len(images))]
    used = [img for img, k in zip(images, counts) if k]
    distinct_layers = {layer.digest: layer.size for img in used for layer in img.layers}
    containers = sum(distinct_layers.values()) + n * delta_bytes
    vm_full = sum(k * (img.flattened_size + vm_extra_bytes)
                  for img, k in zip(images, counts)) + n * delta_bytes
    vm_linked = sum(img.flattened_size + vm_extra_bytes for img in used) + n * delta_bytes
    first = images[0]
    return FleetCost(n, containers, vm_full, vm_linked, 0,
                     first.flattened_size + vm_extra_bytes, 0)


def storage_curve(images: Sequence[Image], n_max: int, delta_bytes: int = 0,
                  vm_extra_bytes: int = 0) -> dict[str, np.ndarray]:
    """Storage for 1..n_max instances as arrays: keys 'n', 'containers', 'vm_full', 'vm_linked'."""
    n_max = check_int("n_max", n_max, 1, 10_000)
    costs = [fleet_cost(images, n, delta_bytes, vm_extra_bytes) for n in range(1, n_max + 1)]
    return {"n": np.arange(1, n_max + 1),
            "containers": np.array([c.containers for c in costs], dtype=float),
            "vm_full": np.array([c.vm_full for c in costs], dtype=float),
            "vm_linked": np.array([c.vm_linked for c in costs], dtype=float)}
