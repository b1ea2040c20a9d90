"""Load libvirt-python once, quietly, or explain why it cannot be loaded.

libvirt's default error handler prints every error to the C-level stderr before Python sees the
exception. That breaks nbval's output comparison and clutters a student's notebook with text that
the exception repeats anyway, so the first import registers a handler that does nothing; the
labs report errors themselves through :func:`virtbook.labs.explain`. Source: libvirt-python,
``libvirt.registerErrorHandler`` ("f=None restores the default handler"), and libvirt's
"Reporting errors" guide, https://libvirt.org/errors.html.

The rest of the book must import and run without libvirt-python, so nothing here imports libvirt
at module import time.

Reading a guest's serial console needs libvirt's event loop: a console is a libvirt *stream*,
and a non-blocking stream delivers data through callbacks that only an event loop runs
(libvirt-python's ``virEventRegisterDefaultImpl`` and ``virEventRunDefaultImpl``; libvirt,
"libvirt-event", https://libvirt.org/html/libvirt-libvirt-event.html). The default loop must be
registered before a connection is opened, so :func:`event_loop` is called by
:func:`virtbook.labs.connect` for every real host and runs the loop in one daemon thread.
"""
from __future__ import annotations

import threading
from types import ModuleType

from .errors import LibvirtMissing

_MODULE: ModuleType | None = None
_LOOP: threading.Thread | None = None


def _silent(_ctx: object, _err: object) -> None:
    """An error handler that drops libvirt's own report (the exception still carries it)."""


def load() -> ModuleType:
    """Return the ``libvirt`` module with a silent error handler registered.

    Raises :class:`LibvirtMissing` (an ImportError) with one sentence of advice when
    libvirt-python is not installed.
    """
    global _MODULE
    if _MODULE is None:
        try:
            import libvirt  # optional dependency, imported on first use
        except ImportError as err:
            raise LibvirtMissing() from err
        libvirt.registerErrorHandler(_silent, None)
        _MODULE = libvirt
    return _MODULE


def available() -> bool:
    """True when libvirt-python can be imported."""
    try:
        load()
    except LibvirtMissing:
        return False
    return True


def event_loop() -> None:
    """Register libvirt's default event loop (once per process) and run it in a daemon thread.

    Connections opened afterwards can deliver stream and domain events; those opened before
    cannot, which is why :func:`virtbook.labs.connect` calls this before opening a real host.
    """
    global _LOOP
    if _LOOP is not None:
        return
    libvirt = load()
    libvirt.virEventRegisterDefaultImpl()

    def run() -> None:
        while True:
            libvirt.virEventRunDefaultImpl()

    _LOOP = threading.Thread(target=run, name="virtbook-libvirt-events", daemon=True)
    _LOOP.start()


def event_loop_running() -> bool:
    """True once :func:`event_loop` has started the loop in this process."""
    return _LOOP is not None
