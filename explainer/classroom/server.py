"""The classroom server: Voilà (0.5.13) with its doors checked, as ``make classroom`` runs it.

``python -m explainer.classroom.server notebooks/apps/ [Voilà's options]`` is ``voila`` with
three handlers replaced, so that no request of one student spoils the class:

- **Kernel websockets speak v1 only** (:mod:`.kernel_socket`). A socket that does not offer
  the ``v1.kernel.websocket.jupyter.org`` subprotocol is refused (400) before it opens: over
  the legacy protocol Voilà reads the kernel's binary replies as v1 (its
  ``read_header_from_binary_message``), and widget ``request_state`` messages then made it
  build a list of ~10^18 offsets, which blocked every other student and grew the server
  20-50 MB/s (measured). On a v1 socket, a frame that is not a v1 message the kernel reads
  (text, offsets past its end, absurd part counts, parts that are not JSON objects, a replay)
  closes that socket with one log line, a frame read after the close is dropped, and a
  socket whose client does not read its replies is closed, so the server's memory stays
  bounded. Voilà's own pages use v1.
- **An app page is only a served notebook, with the classroom's template** (:mod:`.pages`).
  A path with a NUL or another control character answers 400 (on every route), one outside
  the folder, hidden or not an ``.ipynb`` file there 404, a ``template`` or ``theme``
  argument other than the server's 400, each in one log line (the access log), with a short
  page; never a traceback.
- **Kernels are capped** (:mod:`.class_full`, ``make classroom MAX_KERNELS=N``): past the cap
  a page answers 503 with a sentence for the student.

It also builds Voilà's kernel pools from :attr:`ClassroomVoila.pool` and
:attr:`ClassroomVoila.pool_apps` (Voilà's own ``--VoilaKernelManager.kernel_pools_config={...}``
form is deprecated in traitlets 5), and trusts the app notebooks when they hold no outputs
(:class:`OutputFreeNotary`): trust only governs showing a notebook's stored outputs, and an
app stored without outputs has none (Voilà logged "Notebook ... is not trusted" per page).
"""

from __future__ import annotations

import sys

from nbformat.sign import NotebookNotary
from traitlets import TraitError, Unicode
from voila.app import Voila
from voila.static_file_handler import TemplateStaticFileHandler
from voila.tornado.handler import TornadoVoilaHandler
from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler

from .kernel_socket import ClassroomKernelWebsocketHandler
from .pages import ClassroomErrors, ClassroomRenderHandler, ClassroomTemplateStatic


class OutputFreeNotary(NotebookNotary):
    """Trusts a notebook that holds no outputs (there is nothing whose display trust
    governs); any other notebook is checked as Jupyter checks it (its signature)."""

    def check_signature(self, nb):
        if not any(cell.get("outputs") for cell in nb.get("cells", [])):
            return True
        return super().check_signature(nb)


def check_max_kernels(value: object) -> int:
    """``max_kernels`` (``make classroom MAX_KERNELS=N``) as a whole number, 1 or more."""
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or int(text) < 1 or len(text) > 6:
        raise ValueError(f"max_kernels (MAX_KERNELS): got {text[:40]!r}; expected a whole "
                         "number of kernels from 1 to 999999 (default: twice the seats, at "
                         "least 10)")
    return int(text)


def kernel_pools(pool: int, apps: str) -> dict:
    """Voilà's ``kernel_pools_config``: ``pool`` kernels for each app named in ``apps``
    (separated by spaces, without ``.ipynb``), none for the other notebooks; ``{}`` (no
    preheating) when ``pool`` is 0."""
    if isinstance(pool, bool) or not isinstance(pool, int) or pool < 0:
        raise ValueError(f"pool (POOL): got {pool!r}; expected a whole number, 0 or more")
    if not pool:
        return {}
    pools = {"default": {"pool_size": 0}}
    pools.update({f"{app}.ipynb": {"pool_size": pool} for app in apps.split()})
    return pools


class ClassroomVoila(Voila):
    """Voilà with the classroom's handlers (see the module's docstring) and pools."""

    pool = Unicode("0", config=True, help=(
        "Kernels preheated for each app of pool_apps (0: a kernel per visit only)."))
    pool_apps = Unicode("", config=True, help=(
        "The apps (notebook names without .ipynb, separated by spaces) that get a pool."))

    def initialize(self, argv=None):
        super().initialize(argv)
        cap = self.config.ClassroomKernelManager.get("max_kernels")
        if cap is not None:  # checked here, before a kernel manager reads it
            self.config.ClassroomKernelManager.max_kernels = check_max_kernels(cap)
        pool = self.pool.strip()
        if not (pool.isascii() and pool.isdigit()) or len(pool) > 6:
            raise ValueError(f"pool (POOL): got {pool[:40]!r}; expected a whole number of "
                             "kernels per app from 0 to 999999")
        pools = kernel_pools(int(pool), self.pool_apps)
        if pools:
            self.voila_configuration.preheat_kernel = True
            self.config.VoilaKernelManager.kernel_pools_config = pools

    def init_settings(self):
        settings = super().init_settings()
        self.contents_manager.notary = OutputFreeNotary(parent=self.contents_manager)
        return settings

    def init_handlers(self):
        replace = {VoilaKernelWebsocketHandler: ClassroomKernelWebsocketHandler,
                   TornadoVoilaHandler: ClassroomRenderHandler,
                   TemplateStaticFileHandler: ClassroomTemplateStatic}
        return [(spec[0], replace.get(spec[1]) or _with_classroom_errors(spec[1]), *spec[2:])
                for spec in super().init_handlers()]


def _with_classroom_errors(handler: type) -> type:
    """``handler`` with :class:`ClassroomErrors` first in its MRO."""
    if issubclass(handler, ClassroomErrors):
        return handler
    return type(handler.__name__, (ClassroomErrors, handler), {})


def main(argv: list[str] | None = None) -> int:
    try:
        ClassroomVoila.launch_instance(argv)
    except (ValueError, TraitError) as err:
        print(f"python -m explainer.classroom.server: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
