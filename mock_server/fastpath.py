"""Create, read and search answered without Flask's per-request machinery, byte for byte as Flask answers them.

Why: those three are almost every request a client makes, and for each Flask builds a request and
an app context, a URL adapter, a session, a Response and a copy of its headers, and Werkzeug quotes
the Location again: about half of a create's CPU, and most of a read's and a search's
(bench/cpu_create.py). ``FastRoutes`` sits between the fault middleware and Flask. It
takes a request only when it is plain, and runs the endpoint's own code (``communication.create_answer``,
``read_answer``, ``search_answer``, ``auth.bearer_token_hash``: nothing is written twice); a
successful ``Answer`` is sent by ``Answer.wsgi``, which gives what Werkzeug gives for
``Answer.response()`` once ``outcome._stamp`` has stamped it (tests/mock/test_fastpath.py holds
the two paths equal). Whatever the endpoint raises, a 401, 4xx or an unexpected error, is answered
by Flask itself, inside a request context, through its error handlers and after-request hook,
so every refusal is Flask's own answer.

Plain means: GET or POST (HEAD and OPTIONS are Flask's), the exact path ``/Communication`` or
``/Communication/<ASCII id>``, no cookie (the session interface is skipped), no body refused by
limits.py, a create's body of declared length (no Transfer-Encoding), a URL root already worked
out for this scheme, host and script root (communication.known_base), and an app whose hooks, views
and routing settings are still those this reproduces (checked when the first request arrives;
Flask allows no new hook after that). Anything else goes to Flask unchanged, body unread.
"""
from __future__ import annotations

import io
import sys
from urllib.parse import parse_qsl

from werkzeug.datastructures import ImmutableMultiDict

from . import auth, communication
from .limits import REFUSED
from .outcome import correlation_ids

_ITEM = "/Communication/"
# The app's hook registries this reproduces: before_request (limits.py's refusal, which a plain
# request never meets), after_request (the correlation id); the rest must be empty.
_HOOKS = ("before_request_funcs", "after_request_funcs", "teardown_request_funcs", "url_value_preprocessors")
_VIEWS = ("communication.create", "communication.read", "communication.search")


class FastRoutes:
    """WSGI middleware over Flask's ``wsgi_app`` (see the module's docstring)."""

    def __init__(self, app, wsgi_app) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.store = app.extensions["mock_store"]
        self.clock = app.extensions["mock_clock"]
        self.make_id = correlation_ids(app.config["PROFILE"])
        self._sealed: tuple | None = None
        self._checked: bool | None = None  # None until the first request: is the app still as sealed?

    def seal(self) -> None:
        """Remember the app as ``create_app`` finished it: what applies to these routes is reproduced here."""
        self._sealed = self._setup()

    def _setup(self) -> tuple:
        """The hooks that apply to the Communication routes (app-wide or the blueprint's), their views, the
        session interface."""
        app = self.app
        return (tuple(tuple(tuple(getattr(app, name).get(key, ())) for key in (None, "communication"))
                      for name in _HOOKS),
                tuple(app.view_functions.get(name) for name in _VIEWS),
                type(app.session_interface))

    def _still_as_built(self) -> bool:
        app = self.app
        config = app.config
        same = (self._setup() == self._sealed and config["SERVER_NAME"] is None
                and config["TRUSTED_HOSTS"] is None and not app.subdomain_matching and not app.url_map.host_matching)
        # What Flask's own dispatch sets on its first request: the app's setup is over (no new hook).
        app._got_first_request = True
        return same

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD")
        path = environ.get("PATH_INFO") or ""
        if method == "POST":
            if path != "/Communication":
                return self.wsgi_app(environ, start_response)
            kind = "create"
        elif method == "GET":
            if path == "/Communication":
                kind = "search"
            elif path.startswith(_ITEM) and path.isascii() and "/" not in path[len(_ITEM):] and path[len(_ITEM):]:
                kind = "read"
            else:
                return self.wsgi_app(environ, start_response)
        else:
            return self.wsgi_app(environ, start_response)
        if "HTTP_COOKIE" in environ or REFUSED in environ:
            return self.wsgi_app(environ, start_response)
        if self._checked is None:
            self._checked = self._still_as_built()
        if not self._checked:
            return self.wsgi_app(environ, start_response)
        config = self.app.config
        base = communication.known_base(self.app, environ)
        if base is None:  # Flask works it out (and remembers it)
            return self.wsgi_app(environ, start_response)
        if kind == "create":
            length = environ.get("CONTENT_LENGTH") or ""
            if (not (length.isascii() and length.isdigit()) or "HTTP_TRANSFER_ENCODING" in environ
                    or "wsgi.input_terminated" in environ or int(length) > config["MAX_CONTENT_LENGTH"]):
                return self.wsgi_app(environ, start_response)
        try:
            auth.bearer_token_hash(environ, self.store, self.clock)  # FHIR-3, before the body is read
            if kind == "create":
                answer = communication.create_answer(self.store, self.clock, config, environ.get("CONTENT_TYPE"),
                                                     _body(environ, int(length)), base)
            elif kind == "read":
                answer = communication.read_answer(self.store, path[len(_ITEM):])
            else:
                answer = communication.search_answer(self.store, config, _args(environ), base)
        except _Incomplete:  # nothing was done: Flask reads the same bytes and answers as it does
            return self.wsgi_app(environ, start_response)
        except Exception as err:  # noqa: BLE001 (answered by Flask's handlers, as from the view)
            return self._by_flask(environ, start_response, err)
        if any("\r" in value or "\n" in value for _, value in answer.headers):
            return self._by_flask(environ, start_response, answer)  # Werkzeug refuses such a header
        return answer.wsgi(start_response, self.make_id())

    def _by_flask(self, environ, start_response, outcome):
        """What Flask's ``wsgi_app`` sends once its view returned ``outcome`` (an Answer) or raised it."""
        app = self.app
        ctx = app.request_context(environ)
        error = None
        try:
            try:
                ctx.push()
                try:
                    if isinstance(outcome, BaseException):
                        raise outcome
                    rv = outcome.response()
                except Exception as err:  # noqa: BLE001
                    rv = app.handle_user_exception(err)
                response = app.finalize_request(rv)
            except Exception as err:  # noqa: BLE001
                error = err
                response = app.handle_exception(err)
            except:  # noqa: E722 (as Flask's wsgi_app: the context is popped with it, then it goes on)
                error = sys.exc_info()[1]
                raise
            return response(environ, start_response)
        finally:
            ctx.pop(error)


def _body(environ, length: int) -> bytes:
    """The body's ``length`` bytes, as Werkzeug's get_data reads them; put back as a stream for Flask,
    should an error be answered there (a body that ended early is Werkzeug's 400 to give)."""
    stream = environ["wsgi.input"]
    data = stream.read(length)
    while len(data) < length:
        piece = stream.read(length - len(data))
        if not piece:
            break
        data += piece
    environ["wsgi.input"] = io.BytesIO(data)
    if len(data) < length:
        raise _Incomplete
    return data


class _Incomplete(Exception):
    """The body ended before its declared length (Werkzeug answers that 400 before the view runs)."""


def _args(environ) -> ImmutableMultiDict:
    """``request.args`` as Werkzeug parses it."""
    return ImmutableMultiDict(parse_qsl(environ.get("QUERY_STRING", "").encode("latin-1").decode(),
                                        keep_blank_values=True, errors="werkzeug.url_quote"))

