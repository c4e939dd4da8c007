"""The classroom server's pages: every handler answers a malformed path 400 and an error with
a short page for the student (no template: Voilà's error templates crashed on its own server),
a refusal in the access log's one line; an app page is a served notebook in the server's
template and theme; a template's static files only under a plain template name.

Used by :mod:`.server`, which puts these handlers in Voilà's place.
"""

from __future__ import annotations

import html
import os
import re
import urllib.parse

from tornado import web
from voila.static_file_handler import TemplateStaticFileHandler
from voila.tornado.handler import TornadoVoilaHandler

TEMPLATE_NAME = re.compile(r"[A-Za-z0-9_-]+")
STUDENT_PAGES = {
    400: "This address is not one of the class's apps. Ask your teacher for the app's link.",
    404: "There is no such app here. Ask your teacher for the app's link.",
    403: "This page is not for students. Ask your teacher for the app's link.",
}


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
