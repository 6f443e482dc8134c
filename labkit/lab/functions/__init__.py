"""The lab's Lambda functions, as sources labkit packages and deploys.

Each ``<name>/lambda_function.py`` is the code a function starts with; ``<name>/solution/``
holds the fixed version where a lab step changes the code (StateLambda in lab2.step1,
ReduceLambda in lab2.step2). ``pipeline.py`` is copied into every package.
"""
