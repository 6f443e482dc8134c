"""S3 → SNS → Lambda as AWS runs it, and the request counts, wired into the cloud's front.

See :mod:`.s3_events` (the records), :mod:`.s3_destinations` (which destinations S3 may use)
and :mod:`.sns_lambda` (delivery to functions); :mod:`.request_counts` counts what it all cost.
"""

from __future__ import annotations

from .front import Front
from .lambda_service import LambdaService, RoleKeys
from .request_counts import RequestCounts
from .s3_destinations import install as install_s3_delivery
from .s3_destinations import notification_routes
from .s3_events import RequesterGate
from .sns_lambda import install as install_sns_delivery


def install(front: Front, lambdas: LambdaService, roles: RoleKeys) -> RequestCounts:
    """Install the routes, gates and moto patches; returns the request counter."""
    counts = RequestCounts(roles.role_for)
    front.gates.append(counts)
    front.gates.append(RequesterGate(roles.role_for))
    front.add_routes(notification_routes())
    install_s3_delivery(counts.count_event)
    install_sns_delivery(lambdas, counts.count_event)
    return counts
