"""
Who may queue a run: per-client and site-wide limits, kept in a shared store
(``tutorials/counters.py``) so that they hold across processes and hosts and
heal by themselves.

- a rate limit: ``RUNNER_RATE_LIMIT`` runs per ``RUNNER_RATE_WINDOW`` seconds;
- a per-client queue: at most ``RUNNER_CLIENT_QUEUE`` runs waiting or running;
- a site-wide queue: at most ``RUNNER_QUEUE_LIMIT`` runs waiting or running.

Each queued run holds a ticket of its client and one of the site. A ticket
expires by itself (``RUNNER_QUEUE_TIMEOUT`` after it was taken while the run
waits, the run's wall timeout plus ``GRACE`` once it runs), so a process that
dies with runs in hand locks nobody out for long. The client ticket's ``place``
(how many of the client's runs were ahead) becomes the run's priority level:
a client's first run goes before anybody's second, which is round-robin between
clients while each client's own runs keep their order.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import counters
from . import limits

GRACE = 5  # seconds a running run's tickets outlive its wall timeout (start-up, clean-up)
SITE = "runner:site"


class Refused(Exception):
    """The run cannot be queued now; try again after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


@dataclass(frozen=True)
class Admission:
    """The tickets of one queued run."""

    client_token: str
    site_token: str
    place: int


def store() -> counters.Store:
    """The shared store: the Redis of the "redis" queue, else the default cache."""
    from . import queues

    return queues.counter_store()


def _client_key(client: str) -> str:
    return f"runner:client:{client}"


def admit(client: str) -> Admission:
    """Count a run for ``client`` and take its tickets, or raise ``Refused``."""
    shared = store()
    rate = shared.hit(f"runner:rate:{client}", limits.get("RATE_LIMIT"), limits.get("RATE_WINDOW"))
    if not rate.allowed:
        raise Refused("Too many runs; please wait a little.", rate.retry_after)
    waiting = limits.get("QUEUE_TIMEOUT") + GRACE
    site = shared.take(SITE, limits.get("QUEUE_LIMIT"), waiting)
    if site is None:
        raise Refused("The code runner is busy; try again shortly.", limits.get("RETRY_AFTER"))
    mine = shared.take(_client_key(client), limits.get("CLIENT_QUEUE"), waiting)
    if mine is None:
        shared.give_back(SITE, site.token)
        raise Refused(
            "Your address already has the most runs waiting that it may; "
            "try again when some have finished.",
            max(limits.get("RETRY_AFTER"), int(limits.current().wall_timeout)),
        )
    return Admission(client_token=mine.token, site_token=site.token, place=mine.place)


def started(client: str, admission: Admission) -> None:
    """The run starts: its tickets now last its wall timeout (plus ``GRACE``)."""
    shared = store()
    ttl = limits.current().wall_timeout + GRACE
    shared.refresh(_client_key(client), admission.client_token, ttl)
    shared.refresh(SITE, admission.site_token, ttl)


def finished(client: str, admission: Admission) -> None:
    """The run is over (or was never run): give its tickets back."""
    shared = store()
    shared.give_back(_client_key(client), admission.client_token)
    shared.give_back(SITE, admission.site_token)


def queued(client: str) -> int:
    """Runs ``client`` has waiting or running."""
    return store().count(_client_key(client))
