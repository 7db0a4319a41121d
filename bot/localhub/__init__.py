"""A local, stateful GitHub (REST, GraphQL, App auth, webhooks) for tests and the demo."""
from bot.localhub.server import LocalHub, RequestRecord, ThreadedHub

__all__ = ["LocalHub", "RequestRecord", "ThreadedHub"]
