"""Local stand-ins for the outside world, for the tests and the demo; the product never imports it.

A stateful GitHub (REST, GraphQL, App auth, webhooks) and, in `localhub.pgserver`, a throwaway
PostgreSQL server.
"""
from localhub.clock import Clock, FixedClock, RealClock
from localhub.server import LocalHub, RequestRecord, ThreadedHub

__all__ = ["Clock", "FixedClock", "LocalHub", "RealClock", "RequestRecord", "ThreadedHub"]
