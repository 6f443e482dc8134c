"""The public surface of labkit.iam: exports, purity, caching and input forms."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import labkit.iam as iam
from labkit.iam import Decision, compile_policies, evaluate, is_allowed, parse_policy
from labkit.iam.matching import action_matcher, arn_matcher, string_like_matcher

DOC = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Read", "Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}
    ],
}
TABLE = "arn:aws:dynamodb:eu-west-1:123456789012:table/T"


def test_public_names() -> None:
    """__all__ lists the promised API, and every name in it exists."""
    promised = {
        "parse_policy",
        "lint_policy",
        "evaluate",
        "is_allowed",
        "Policy",
        "Decision",
        "Evaluation",
        "check_least_privilege",
        "PolicyReport",
        "compile_policies",
        "PolicySet",
    }
    assert promised <= set(iam.__all__)
    for name in iam.__all__:
        assert hasattr(iam, name), name


def test_package_is_pure() -> None:
    """Importing labkit.iam loads nothing of labkit beyond what `import labkit` already loads."""
    root = Path(__file__).resolve().parents[3]
    code = (
        "import sys, labkit\n"
        "before = set(sys.modules)\n"
        "import labkit.iam\n"
        "added = sorted(m for m in set(sys.modules) - before if m.startswith('labkit.') "
        "and not m.startswith('labkit.iam'))\n"
        "print(added)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_sources_import_nothing_else_from_labkit() -> None:
    """No module of labkit/iam imports another labkit package."""
    src = Path(iam.__file__).parent
    for path in src.glob("*.py"):
        for line in path.read_text().splitlines():
            if line.startswith(("import labkit", "from labkit")):
                assert line.startswith(("from labkit.iam", "import labkit.iam")), (path, line)


def test_every_module_uses_future_annotations() -> None:
    """Each module starts with from __future__ import annotations."""
    for path in Path(iam.__file__).parent.glob("*.py"):
        assert "from __future__ import annotations" in path.read_text(), path


def test_input_forms_agree() -> None:
    """Text, dict, Policy, list and PolicySet inputs give the same decision."""
    forms = [DOC, json.dumps(DOC), parse_policy(DOC), [DOC], compile_policies([DOC])]
    for form in forms:
        assert evaluate(form, "dynamodb:GetItem", TABLE).decision is Decision.ALLOW
        assert is_allowed(form, "dynamodb:GetItem", TABLE)


def test_compiled_policies_are_cached_by_text() -> None:
    """Compiling the same document twice reuses the parsed policy."""
    first = compile_policies([json.dumps(DOC)])
    second = compile_policies([json.dumps(DOC)])
    assert first.policies[0] is second.policies[0]


def test_compile_policies_names_policies() -> None:
    """A mapping of name to document names each compiled policy."""
    compiled = compile_policies({"ReduceLambdaPolicy": DOC})
    result = compiled.evaluate("dynamodb:GetItem", TABLE)
    assert result.decided_by is not None and result.decided_by.policy == "ReduceLambdaPolicy"
    assert "ReduceLambdaPolicy" in repr(compiled)


def test_statements_matching_lists_denies_first() -> None:
    """statements_matching lists every applicable statement, Deny statements first."""
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "A", "Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Sid": "D", "Effect": "Deny", "Action": "dynamodb:*", "Resource": "*"},
        ],
    }
    refs = compile_policies(doc).statements_matching("dynamodb:GetItem", TABLE)
    assert [r.sid for r in refs] == ["D", "A"]


def test_matchers_treat_regex_characters_literally() -> None:
    """Regex characters in patterns are plain characters for every matcher."""
    assert arn_matcher("arn:aws:s3:::a.b+c(d)")("arn:aws:s3:::a.b+c(d)")
    assert not arn_matcher("arn:aws:s3:::a.b")("arn:aws:s3:::axb")
    assert action_matcher("s3:Get.*")("S3:get.x")
    assert not action_matcher("s3:Get.*")("s3:GetX")
    assert string_like_matcher("a|b")("a|b") and not string_like_matcher("a|b")("a")
