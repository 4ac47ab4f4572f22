"""The policy: which apps are prohibited on which devices, from when, with which exceptions; and its evaluation.

    load_policy(path, catalogue) -> Policy          (PolicyError lists every problem with file:line and a fix)
    starter_policy() -> str                         a commented policy to start from
    evaluate(policy, catalogue, states, as_of, sightings=..., evidence=...) -> Evaluation
    candidate_patterns(policy, catalogue) -> (exact app ids, vendor prefixes) any rule can match
    due_for_review(policy, now, within_days) -> [(kind, id, date, why)]
"""

from interdit.policy.evaluate import Evaluation, candidate_patterns, evaluate
from interdit.policy.load import load_policy, parse_policy, starter_policy
from interdit.policy.review import due_for_review
from interdit.policy.schema import policy_json_schema

__all__ = [
    "Evaluation",
    "candidate_patterns",
    "due_for_review",
    "evaluate",
    "load_policy",
    "parse_policy",
    "policy_json_schema",
    "starter_policy",
]
