"""Hold a preheated kernel until a student's request takes it, without importing Voilà.

Voilà (``--preheat_kernel``) runs an app's notebook in a pool kernel before anyone asks; the
notebook calls ``voila.utils.wait_for_request()`` to pause there until a request arrives and
then receives that request's details. Importing ``voila.utils`` brings Jupyter Server and
JupyterLab Server into the kernel: +46 MB PSS measured in a plain ipykernel process, for
every kernel of the pool. :func:`wait_for_request` does the same wait with the ``websockets``
client alone (+1.3 MB): it opens the websocket Voilà 0.5.13 serves for this
(``{ws_base_url}voila/query/{kernel_id}``, built from the same ``VOILA_*`` variables Voilà puts
into a pool kernel's environment), receives one JSON message of request details and puts them
into ``os.environ``, as ``voila.utils.wait_for_request`` does.

The classroom apps call it once their widget is built. While a pool kernel waits it is busy,
so culling never takes it; when it is handed over its activity time is then, so the
student's page has the whole cull window to connect. Elsewhere it returns at once.
"""

from __future__ import annotations

import json
import os

PREHEAT = "VOILA_PREHEAT"


def query_url() -> str:
    """The websocket URL where Voilà hands this pool kernel its request (as ``voila.utils``
    builds it)."""
    protocol = os.environ.get("VOILA_WS_PROTOCOL", "ws")
    ip = os.environ.get("VOILA_APP_IP", "127.0.0.1")
    port = os.environ.get("VOILA_APP_PORT", "8866")
    base = os.environ.get("VOILA_WS_BASE_URL", os.environ.get("VOILA_SERVER_URL", "/"))
    return f"{protocol}://{ip}:{port}{base}voila/query/{os.environ.get('VOILA_KERNEL_ID')}"


def wait_for_request(open_timeout: float = 5.0) -> dict[str, str] | None:
    """In a Voilà pool kernel, block until a student's request takes it; return the request's
    details (also put into ``os.environ``), or None when the kernel is not a pool kernel or
    the server could not be reached (the app then simply goes on)."""
    if os.environ.get(PREHEAT, "False") != "True":
        return None
    from websockets.sync.client import connect  # only a pool kernel needs a websocket client

    try:
        with connect(query_url(), open_timeout=open_timeout) as websocket:
            details = json.loads(websocket.recv())
    except (OSError, TimeoutError, ValueError):
        return None
    for name, value in details.items():
        os.environ[name] = str(value)
    return details
