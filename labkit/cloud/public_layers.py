"""AWS's public Powertools layers, as the local cloud knows them.

A function may name the public Powertools for AWS Lambda (Python) layer (published by account
017000801446, ``AWSLambdaPowertoolsPython…``), as AWS recommends. moto knows no layers of other
accounts and would refuse the function. labkit's runtime runs handlers on the Python that runs
labkit, where ``aws_lambda_powertools`` is installed, so the layer is accepted and listed on the
function, and its contents are already there.
"""

from __future__ import annotations

import re
from typing import Any

POWERTOOLS_LAYER = re.compile(
    r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:017000801446:layer:AWSLambdaPowertoolsPython[\w-]*:\d+$"
)
#: What GetFunction reports as the layer's size (about the size of the real layer).
POWERTOOLS_CODE_SIZE = 15 * 1024 * 1024


def is_public_layer(arn: str) -> bool:
    """True for a version ARN of AWS's public Powertools (Python) layers."""
    return bool(POWERTOOLS_LAYER.match(arn))


def install() -> None:
    """Let moto's functions name the public Powertools layers."""
    from moto.awslambda.models import LambdaFunction

    original = LambdaFunction._get_layers_data
    if getattr(original, "_labkit_public_layers", False):
        return

    def layers_data(self: Any, arns: list[str]) -> list[dict[str, Any]]:
        public = [arn for arn in arns if is_public_layer(arn)]
        others = [arn for arn in arns if not is_public_layer(arn)]
        found = {entry["Arn"]: entry for entry in original(self, others)} if others else {}
        for arn in public:
            found[arn] = {"Arn": arn, "CodeSize": POWERTOOLS_CODE_SIZE}
        return [found[arn] for arn in arns if arn in found]

    layers_data._labkit_public_layers = True  # type: ignore[attr-defined]
    LambdaFunction._get_layers_data = layers_data
