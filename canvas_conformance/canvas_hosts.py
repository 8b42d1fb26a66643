"""Canvas's own hosts: which of its APIs a base URL names, the profile that describes it, and where
its token endpoint is.

What Canvas documents (sources in catalogue.json's ``profiles``; /work/notes/current-findings.md):
- The v2 FHIR API ("Fumage") is served at ``https://fumage-<instance>.canvasmedical.com``, no path;
  the instance name may carry an environment suffix (service-base-urls.md: ``modernfamilypractice-dev``
  -> ``https://fumage-modernfamilypractice-dev.canvasmedical.com``). The v1 API is the same instance's
  ``fhir-`` host; "You can control which API you use ... by simply changing the subdomain. Your
  authentication tokens work on both versions." (fhir-v2-migration-guide.md).
- Tokens come from the EHR instance itself, not from the FHIR host: ``POST
  {YOUR_CANVAS_EHR_INSTANCE}/auth/token/`` (customer-authentication.md); "Auth tokens are requested
  from the EMR instance, not the FHIR API", derived by removing ``fumage-`` from the FHIR base
  (authentication-best-practices.md); Canvas's request collection sets ``emr_base_url:
  https://{{domain}}`` beside ``base_url: https://fumage-{{domain}}``.

Only the leading ``fumage-``/``fhir-`` label prefix is removed (the docs' ``str.replace`` would also cut
one inside the instance name). Decided from the URL alone: nothing is resolved or sent.
"""
from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import urlsplit

CANVAS_DOMAIN = "canvasmedical.com"
_HOST = re.compile(r"(?P<prefix>fumage|fhir)-(?P<instance>[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)\."
                   + re.escape(CANVAS_DOMAIN))
API_PROFILES = {"fumage": ("v2", "canvas-current"), "fhir": ("v1", "canvas-2022")}


class CanvasHost(NamedTuple):
    """A base URL on one of Canvas's FHIR hosts."""

    api: str  # v1 | v2
    instance: str  # the EHR instance, environment suffix included (acme, acme-dev)
    prefix: str  # fumage | fhir
    profile: str  # the catalogue profile that describes that API

    @property
    def fhir_host(self) -> str:
        return f"{self.prefix}-{self.instance}.{CANVAS_DOMAIN}"

    @property
    def ehr_host(self) -> str:
        return f"{self.instance}.{CANVAS_DOMAIN}"


def canvas_host(url: str | None) -> CanvasHost | None:
    """The Canvas FHIR host ``url`` is on, or None for any other host (a mock, a vendor's server)."""
    if not url:
        return None
    try:
        host = (urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return None
    match = _HOST.fullmatch(host)
    if match is None:
        return None
    api, profile = API_PROFILES[match["prefix"]]
    return CanvasHost(api, match["instance"], match["prefix"], profile)


def default_token_url(base_url: str) -> str:
    """The token endpoint a run uses when none was configured: the EHR instance's ``/auth/token/`` for
    a Canvas FHIR host (same scheme and port), else ``<base>/auth/token/`` (the mock, and any
    Canvas-like server that serves both on one host)."""
    host = canvas_host(base_url)
    base = base_url.rstrip("/")
    if host is None:
        return f"{base}/auth/token/"
    parts = urlsplit(base)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host.ehr_host}{port}/auth/token/"


def profile_for(base_url: str | None) -> str | None:
    """The profile that describes the Canvas API at ``base_url``; None when it is no Canvas host."""
    host = canvas_host(base_url)
    return host.profile if host else None


def profile_mismatch(base_url: str | None, profile: str) -> str | None:
    """One line saying that ``profile`` does not describe the Canvas API at ``base_url`` and what does;
    None when it does, or when the target is no Canvas host."""
    host = canvas_host(base_url)
    if host is None or host.profile == profile:
        return None
    other = "fhir" if host.prefix == "fumage" else "fumage"
    other_api, _ = API_PROFILES[other]
    scheme = urlsplit(base_url).scheme
    return (f"{host.fhir_host} is Canvas's {host.api} FHIR API, which profile {host.profile} describes, not "
            f"{profile} (Canvas's {other_api} API, hosts {other}-<instance>.{CANVAS_DOMAIN}): run with --profile "
            f"{host.profile} (or without --profile and CANVAS_PROFILE, which picks it), or judge the {other_api} API "
            f"by {profile} with --base-url {scheme}://{other}-{host.instance}.{CANVAS_DOMAIN}")
