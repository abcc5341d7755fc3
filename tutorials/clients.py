"""
Who is this client? The one answer every throttle, log line and metric uses.

Behind ``NUM_PROXIES`` trusted proxies the client is the entry of
X-Forwarded-For that the outermost of them added; otherwise ``REMOTE_ADDR``.
Trusting the header without a proxy that overwrites it would let a client pick
its own address, so ``NUM_PROXIES`` defaults to 0.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The client's IP address, honouring ``settings.NUM_PROXIES``."""
    proxies = getattr(settings, "NUM_PROXIES", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-min(proxies, len(hops))]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def client_key(request: HttpRequest) -> str:
    """The client's address hashed into a short, cache-safe key."""
    return hashlib.sha256(client_address(request).encode()).hexdigest()[:32]
