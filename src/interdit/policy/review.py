"""What the policy's owners must look at soon: interim rules to review, exceptions to review or expiring."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from interdit import i18n
from interdit.model import Policy, utc


def due_for_review(policy: Policy, now: datetime, within_days: int,
                   *, lang: str | None = None) -> list[tuple[str, str, date, str]]:
    """(kind "rule"|"exception", id, date, why) for every review or expiry on or before `now` + `within_days`.

    Past-due items are included. Sorted by date, then kind and id. `why` is in `lang` (default: the policy's).
    """
    chosen = lang or policy.language
    words = i18n.section(chosen if chosen in i18n.LANGS else "en", "review")
    today = utc(now).date()
    horizon = today + timedelta(days=max(within_days, 0))
    items: list[tuple[str, str, date, str]] = []
    for rule in policy.rules:
        if rule.review_by is not None and rule.review_by <= horizon:
            key = "rule-interim" if rule.interim else "rule"
            items.append(("rule", rule.id, rule.review_by, words[key].format(d=rule.review_by)))
    for exc in policy.exceptions:
        if exc.review_by is not None and exc.review_by <= horizon and exc.review_by < exc.expires:
            items.append(("exception", exc.id, exc.review_by,
                          words["exception-review"].format(d=exc.review_by, approver=exc.approver)))
        if exc.expires <= horizon:
            key = "exception-expired" if exc.expires <= today else "exception-expires"
            items.append(("exception", exc.id, exc.expires, words[key].format(d=exc.expires)))
    return sorted(items, key=lambda t: (t[2], t[0], t[1], t[3]))

