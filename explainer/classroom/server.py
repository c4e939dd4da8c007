"""The classroom server: Voilà (0.5.13) with its doors checked, as ``make classroom`` runs it.

``python -m explainer.classroom.server notebooks/apps/ [Voilà's options]`` is ``voila`` with
three handlers replaced, so that no request of one student spoils the class:

- **Kernel websockets speak v1 only.** A socket that does not offer the
  ``v1.kernel.websocket.jupyter.org`` subprotocol is refused (400) before it opens: over the
  legacy protocol Voilà reads the kernel's binary replies as v1 (its
  ``read_header_from_binary_message``), and widget ``request_state`` messages then made it build
  a list of ~10^18 offsets, which blocked every other student and grew the server ~50 MB/s
  (measured). On a v1 socket, a frame that is not a well-formed v1 message (text, offsets
  past its end, absurd part counts: jupyter_server parses those the same way) closes that
  socket with one log line, and a socket whose client does not read its replies is closed
  past :data:`MAX_UNSENT_BYTES`, so the server's memory stays bounded. Voilà's own pages
  use v1.
- **An app page is only a served notebook, with the classroom's template.** A path with a
  NUL or another control character answers 400, one outside the folder, hidden or not an
  ``.ipynb`` file there 404, a ``template`` or ``theme`` argument other than the server's 400,
  each in one log line (the access log), with a short page; never a traceback.
- **Kernels are capped** (:attr:`~.kernel_manager.ClassroomKernelManager.max_kernels`,
  ``make classroom MAX_KERNELS=N``): past the cap a page answers 503 with a sentence for the
  student (:class:`~.kernel_manager.ClassFull`).

It also builds Voilà's kernel pools from :attr:`ClassroomVoila.pool` and
:attr:`ClassroomVoila.pool_apps` (Voilà's own ``--VoilaKernelManager.kernel_pools_config={...}``
form is deprecated in traitlets 5), and trusts the app notebooks when they hold no outputs
(:class:`OutputFreeNotary`): trust only governs showing a notebook's stored outputs, and an
app stored without outputs has none (Voilà logged "Notebook ... is not trusted" per page).
"""

from __future__ import annotations

import hashlib
import html
import os
import re
import sys
import urllib.parse
from collections import OrderedDict

from jupyter_client.adapter import adapt
from jupyter_client.jsonutil import extract_dates
from jupyter_client.session import Session
from nbformat.sign import NotebookNotary
from tornado import web
from traitlets import TraitError, Unicode
from voila.app import Voila
from voila.static_file_handler import TemplateStaticFileHandler
from voila.tornado.handler import TornadoVoilaHandler
from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler

TEMPLATE_NAME = re.compile(r"[A-Za-z0-9_-]+")
_unpack = Session().unpack  # what a kernel's session reads a message part with (json or orjson)
V1_PROTOCOL = "v1.kernel.websocket.jupyter.org"
MAX_V1_PARTS = 1024  # a v1 message's parts: channel, header, parent, metadata, content, buffers
MAX_UNSENT_BYTES = 64 * 2**20  # replies queued for one socket whose client does not read
STUDENT_PAGES = {
    400: "This address is not one of the class's apps. Ask your teacher for the app's link.",
    404: "There is no such app here. Ask your teacher for the app's link.",
    403: "This page is not for students. Ask your teacher for the app's link.",
}


def v1_message_problem(message: object) -> str | None:
    """Why ``message`` is not a well-formed v1 kernel websocket frame, or None when it is:
    binary, its part count (8 bytes, little-endian) from 6 to :data:`MAX_V1_PARTS`, its
    offsets inside the frame and in order, its header, parent header, metadata and content
    JSON objects, the header with a ``msg_id`` and a ``msg_type``."""
    if not isinstance(message, bytes):
        return "a text frame (the v1 protocol sends binary frames)"
    if len(message) < 8:
        return f"a frame of {len(message)} bytes (shorter than its part count)"
    parts = int.from_bytes(message[:8], "little")
    if not 6 <= parts <= MAX_V1_PARTS:
        return f"{min(parts, 10**6)} parts (expected 6 to {MAX_V1_PARTS})"
    table_end = 8 * (parts + 1)
    if len(message) < table_end:
        return f"a frame of {len(message)} bytes for {parts} offsets"
    offsets = [int.from_bytes(message[8 * i:8 * (i + 1)], "little")
               for i in range(1, parts + 1)]
    if offsets[0] < table_end or offsets[-1] > len(message) \
            or any(offsets[i + 1] < offsets[i] for i in range(parts - 1)):
        return "offsets outside the frame or out of order"
    names = ("header", "parent header", "metadata", "content")
    parts = {}
    for name, start, end in zip(names, offsets[1:5], offsets[2:6], strict=True):
        try:  # as the kernel's session.deserialize reads it (else a traceback in its log)
            part = _unpack(message[start:end])
            if name in ("header", "parent header"):
                part = extract_dates(part)
        except (ValueError, TypeError, OverflowError, RecursionError):
            return f"its {name} is not JSON a kernel reads"
        if not isinstance(part, dict):
            return f"its {name} is not a JSON object"
        parts[name] = part
    header = parts["header"]
    if not (isinstance(header.get("msg_id"), str) and isinstance(header.get("msg_type"), str)):
        return "its header has no msg_id or msg_type"
    try:  # the kernel adapts it from the protocol version its header names
        adapt({"header": header, "parent_header": parts["parent header"],
               "metadata": parts["metadata"], "content": parts["content"],
               "msg_id": header["msg_id"], "msg_type": header["msg_type"], "buffers": []})
    except Exception:  # noqa: BLE001 - any failure is the kernel's traceback to come
        return "its header's protocol version or its content cannot be adapted"
    return None


class SeenMessages:
    """Digests of the messages each kernel was sent, as many as a kernel's session remembers
    (``Session.digest_history_size``): the kernel refuses a message it saw before ("Duplicate
    Signature") with a traceback in its log, so a replayed frame is refused here first."""

    def __init__(self, size: int = Session.digest_history_size.default_value):
        self.size = size
        self._kernels: dict[str, OrderedDict[bytes, None]] = {}

    def first_time(self, kernel_id: str, frame: bytes) -> bool:
        """Whether this kernel has not been sent these parts yet (and remember them)."""
        count = int.from_bytes(frame[:8], "little")
        offsets = [int.from_bytes(frame[8 * i:8 * (i + 1)], "little") for i in (2, 6)]
        digest = hashlib.blake2b(frame[offsets[0]:offsets[1]], digest_size=16).digest()
        seen = self._kernels.setdefault(kernel_id, OrderedDict())
        if digest in seen or count < 6:
            return False
        seen[digest] = None
        if len(seen) > self.size:
            seen.popitem(last=False)
        return True

    def forget_all_but(self, kernel_ids) -> None:
        for kernel_id in set(self._kernels) - set(kernel_ids):
            del self._kernels[kernel_id]


SEEN = SeenMessages()


def malformed_path(raw_path: str) -> bool:
    """Whether a request's (percent-encoded) path decodes to a control character (NUL, a
    newline, ...) or to bytes that are not UTF-8: no file or app has such a name."""
    try:
        decoded = urllib.parse.unquote(raw_path, errors="strict")
    except UnicodeDecodeError:
        return True
    return any(ord(c) < 32 or ord(c) == 127 for c in decoded)


class ClassroomErrors:
    """Every handler of the classroom server: a malformed path answers 400 before the handler
    reads it, a refusal (an HTTP error) is the access log's one line, and an error is a short
    page for the student, built without a template (Voilà's error templates need settings its
    own server lacks: a 404 of its static handlers was a traceback and an empty page)."""

    def prepare(self):
        if malformed_path(self.request.path):
            raise web.HTTPError(400)
        return super().prepare()

    def log_exception(self, typ, value, tb):
        if isinstance(value, web.HTTPError):
            return  # a refusal: the access log's line (status, method, path) says it
        super().log_exception(typ, value, tb)

    def write_error(self, status_code, **kwargs):
        exc = (kwargs.get("exc_info") or (None, None, None))[1]
        sentence = getattr(exc, "student_message", None) or STUDENT_PAGES.get(
            status_code, "Something went wrong on the class server. Ask your teacher.")
        title = f"{status_code} {html.escape(self._reason)}"
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                    f"<title>{title}</title></head>\n<body><main><h1>{title}</h1>\n"
                    f"<p>{html.escape(sentence)}</p></main></body></html>\n")


class ClassroomKernelWebsocketHandler(ClassroomErrors, VoilaKernelWebsocketHandler):
    """A kernel's websocket: v1 only, well-formed frames only, bounded unsent replies."""

    async def get(self, kernel_id):
        offered = [p.strip() for p in
                   self.request.headers.get("Sec-WebSocket-Protocol", "").split(",")]
        if V1_PROTOCOL not in offered:
            raise web.HTTPError(400, reason=f"Kernel websockets need the {V1_PROTOCOL} "
                                            "subprotocol")
        await super().get(kernel_id)

    def select_subprotocol(self, subprotocols):
        return V1_PROTOCOL if V1_PROTOCOL in subprotocols else None

    def on_message(self, ws_message):
        connection = self.ws_connection
        if connection is None or connection.is_closing():
            # a frame read before the close: jupyter_server's connection finds no subprotocol
            # on a closed socket, falls back to the legacy parser, and that one built a
            # 100-million-character struct format from a v1 frame's bytes (3.3 GB, measured)
            return None
        problem = v1_message_problem(ws_message)
        if problem is None and not SEEN.first_time(self.kernel_id, ws_message):
            problem = "a message this kernel was sent before (a replay)"
        if problem is None:
            try:
                return super().on_message(ws_message)
            except Exception as err:  # noqa: BLE001 - a client's bytes, not the server's bug
                problem = f"{type(err).__name__}: {str(err)[:100]}"
        self._refuse(f"a malformed message ({problem})")

    def write_message(self, message, binary=False):
        connection = self.ws_connection
        if connection is None or connection.is_closing():
            return None  # a refused socket: the kernel's late replies go nowhere
        if getattr(connection.stream, "_write_buffer_size", 0) > MAX_UNSENT_BYTES:
            self._refuse(f"its client left {MAX_UNSENT_BYTES // 2**20} MiB of replies unread")
            return None
        sent = super().write_message(message, binary)
        if sent is not None:  # a client gone before its replies: no "never retrieved" trace
            sent.add_done_callback(_quietly)
        return sent

    def on_close(self):
        SEEN.forget_all_but(self.kernel_manager.list_kernel_ids())  # the kernels gone
        return super().on_close()

    def _refuse(self, why: str) -> None:
        self.log.warning("Kernel websocket %s closed: %s", getattr(self, "kernel_id", "?"), why)
        self.close(1008, "malformed or unread kernel messages")

    def write_error(self, status_code, **kwargs):  # a websocket client reads no page
        self.finish(f"{status_code}: {self._reason}\n")


def _quietly(future) -> None:
    """Retrieve a finished write's exception (a closed socket's), so asyncio does not log
    it with a traceback per message."""
    if not future.cancelled():
        future.exception()


class ClassroomRenderHandler(ClassroomErrors, TornadoVoilaHandler):
    """``/voila/render/<path>``: a served app notebook only, in the server's template and
    theme; errors as a short page for the student, never a traceback."""

    async def get(self, path=None):
        status = self._refusal(path or "")
        if status:
            raise web.HTTPError(status)
        await super().get(path=path)

    def _refusal(self, path: str) -> int | None:
        if any(ord(c) < 32 or ord(c) == 127 for c in path):
            return 400
        words = [w for w in path.split("/") if w]
        if not words or any(w.startswith(".") for w in words) or not path.endswith(".ipynb"):
            return 404
        root = os.path.realpath(self.settings["voila"].root_dir)
        real = os.path.realpath(os.path.join(root, *words))
        if not real.startswith(root + os.sep) or not os.path.isfile(real):
            return 404
        config = self.voila_configuration
        for name, served in (("template", config.template), ("theme", config.theme)):
            given = self.get_arguments(name)
            if given and given != [served]:
                return 400
        return None


class ClassroomTemplateStatic(ClassroomErrors, TemplateStaticFileHandler):
    """``/voila/templates/<template>/static/<file>``: a template's own files; a path of
    another form, or a template name that is not a plain name (``..``), answers 404 (Voilà
    unpacked it blindly: a 500 and a traceback)."""

    def parse_url_path(self, path):
        parts = path.split("/", 2)
        if len(parts) != 3 or parts[1] != "static" or not TEMPLATE_NAME.fullmatch(parts[0]):
            raise web.HTTPError(404)
        return super().parse_url_path(path)


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
