"""A kernel's websocket on the classroom server: the v1 subprotocol only, well-formed v1
messages only, no replay, bounded unsent replies (see :mod:`.server` for why: the legacy
protocol froze Voilà 0.5.13 for every student).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from jupyter_client.adapter import adapt
from jupyter_client.jsonutil import extract_dates
from jupyter_client.session import Session
from tornado import web
from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler

from .pages import ClassroomErrors

_unpack = Session().unpack  # what a kernel's session reads a message part with (json or orjson)
V1_PROTOCOL = "v1.kernel.websocket.jupyter.org"
MAX_V1_PARTS = 1024  # a v1 message's parts: channel, header, parent, metadata, content, buffers
MAX_UNSENT_BYTES = 64 * 2**20  # replies queued for one socket whose client does not read


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
