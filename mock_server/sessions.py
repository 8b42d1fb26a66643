"""Flask's signed-cookie sessions, without their cost on requests that carry no cookie.

Why: only the chart pages (ui.py) use a session, but Flask opens one for every request, and
the stock interface builds an itsdangerous serializer before it even looks for the cookie, then
reads seven cookie settings on the way out. API clients send no cookie: for them both steps are
skipped. A request with a cookie, or a session a view touched, takes the stock path unchanged,
so the UI's sign-in, CSRF token and ``Vary: Cookie`` are Flask's own.
"""
from __future__ import annotations

from flask.sessions import SecureCookieSessionInterface


class CookieOnlyWhenSent(SecureCookieSessionInterface):
    """``SecureCookieSessionInterface`` with a shortcut for cookie-less requests."""

    def open_session(self, app, request):
        if not app.secret_key:
            return None  # as the stock interface: a null session
        if "HTTP_COOKIE" not in request.environ:
            return self.session_class()  # what the stock interface answers when no cookie holds one
        return super().open_session(app, request)

    def save_session(self, app, session, response) -> None:
        if not session and not session.modified and not session.accessed:
            return  # the stock interface would set no cookie and no Vary header either
        super().save_session(app, session, response)
