"""Deployment packages are deterministic zips whose hash is Lambda's CodeSha256."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile

from labkit.deploy.packaging import FIXED_DATE_TIME, Package, code_sha256, deterministic_zip


def test_same_files_give_the_same_bytes_whatever_their_order() -> None:
    """Two builds of the same files, given in any order, are byte for byte equal."""
    first = deterministic_zip({"b.py": "B", "a.py": b"A"})
    second = deterministic_zip({"a.py": "A", "b.py": "B"})
    assert first == second


def test_entries_are_sorted_with_a_fixed_time_and_mode() -> None:
    """Entries are sorted, dated 1980-01-01 and stored as regular rw-r--r-- files."""
    data = deterministic_zip({"z.py": "z", "a.py": "a", "m/x.py": "x"})
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == ["a.py", "m/x.py", "z.py"]
    assert {i.date_time for i in infos} == {FIXED_DATE_TIME}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}


def test_code_sha256_is_base64_of_the_sha256_digest() -> None:
    """The hash is what Lambda reports as CodeSha256 for the same zip."""
    data = deterministic_zip({"lambda_function.py": "x = 1\n"})
    assert code_sha256(data) == base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_package_changes_hash_only_when_content_changes() -> None:
    """A package's hash follows its content, not when or how often it is built."""
    one = Package.build("f", {"lambda_function.py": "x = 1\n"})
    again = Package.build("f", {"lambda_function.py": "x = 1\n"})
    other = Package.build("f", {"lambda_function.py": "x = 2\n"})
    assert one.sha256 == again.sha256 != other.sha256
    assert one.names == ("lambda_function.py",)
    assert "1 files" in one.describe()
