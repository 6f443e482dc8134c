"""ErrorsProcessor for a tumbling window (starter): it adds up each item's ``amount``.

What is missing: Lambda passes the window's ``state`` in and expects it back in the response
(``{"state": ...}``); at the window's final invoke (``isFinalInvokeForWindow``) the totals
should be written to the windows table (``WINDOWS_TABLE``).
"""

from typing import Any

from probe import image, item_id, log_invocation


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    totals: dict[str, int] = dict(event.get("state") or {})
    for record in event["Records"]:
        amount = int(image(record).get("amount", {}).get("N", "0"))
        totals[item_id(record)] = totals.get(item_id(record), 0) + amount
    log_invocation(event, context, "ok")
