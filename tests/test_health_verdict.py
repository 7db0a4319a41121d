"""The rule behind /health's "deliveries keep failing", over the inbox's running totals as
successive polls see them."""
from __future__ import annotations

from bot.service.runtime.startup_checks import OK, REJECTED, GitHubStatus


def verdicts(*polls: dict[str, int]) -> list[str]:
    status = GitHubStatus("https://api.github.com", state=OK)
    return [str(status.report(counts)["status"]) for counts in polls]


def test_a_failure_with_no_success_since_is_degraded_until_the_next_success() -> None:
    assert verdicts({"done": 3}, {"done": 3, "failed": 1}, {"done": 3, "failed": 1}, {"done": 4, "failed": 1}) == [
        "ok", "degraded", "degraded", "ok"]


def test_old_failures_alone_do_not_degrade_a_service_that_starts_with_them() -> None:
    # A restarted service reads totals that include last month's failures and later successes.
    assert verdicts({"done": 40, "failed": 2}, {"done": 41, "failed": 2}) == ["ok", "ok"]


def test_successes_and_failures_between_two_polls_count_as_recovered() -> None:
    # Totals cannot tell the order; a success since the last poll is taken as recovery.
    assert verdicts({"done": 1}, {"done": 2, "failed": 1}) == ["ok", "ok"]


def test_rejected_credentials_are_named_in_the_problems() -> None:
    status = GitHubStatus("https://api.github.com", state=REJECTED, detail="HTTP 401: Bad credentials")
    report = status.report({"done": 1})
    assert report["status"] == "degraded"
    assert report["problems"] == ["GitHub rejects the App's credentials: HTTP 401: Bad credentials"]
