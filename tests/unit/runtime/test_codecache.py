"""Code packages are unpacked once and safely."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from labkit.runtime import InvalidZipFile, validate_zip
from labkit.runtime.codecache import CodeCache, code_dirname, extract_zip


def zip_of(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "x = 1\n")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "name", ["../evil.py", "a/../../evil.py", "/etc/evil.py", "..\\evil.py", "C:/evil.py"]
)
def test_escaping_entries_are_rejected(tmp_path: Path, name: str) -> None:
    """Entries with .., absolute paths or drive letters are refused before anything is written."""
    data = zip_of("lambda_function.py", name)
    with pytest.raises(InvalidZipFile):
        validate_zip(data)
    dest = tmp_path / "code"
    dest.mkdir()
    with pytest.raises(InvalidZipFile):
        extract_zip(data, dest)
    assert not list(tmp_path.rglob("evil.py"))


def test_not_a_zip_is_rejected(tmp_path: Path) -> None:
    """Bytes that are not a zip raise InvalidZipFile with a clear message."""
    with pytest.raises(InvalidZipFile, match="not a valid zip"):
        CodeCache(tmp_path).ensure("abc", b"not a zip")
    assert not list(tmp_path.iterdir())


def test_oversized_package_is_rejected(tmp_path: Path) -> None:
    """A package whose unzipped size passes the limit is refused (no zip bombs)."""
    with pytest.raises(InvalidZipFile, match="limit"):
        CodeCache(tmp_path, max_bytes=3).ensure("abc", zip_of("a.py"))


def test_unpacks_once_into_a_directory_per_sha(tmp_path: Path) -> None:
    """The same sha reuses its directory, nested folders are created, and the loader runs once."""
    calls: list[int] = []

    def load() -> bytes:
        calls.append(1)
        return zip_of("pkg/mod.py", "lambda_function.py")

    cache = CodeCache(tmp_path)
    first = cache.ensure("abc", load)
    assert (first / "pkg" / "mod.py").read_text() == "x = 1\n"
    assert cache.ensure("abc", load) == first
    assert calls == [1]


def test_failing_loader_is_an_invalid_zip(tmp_path: Path) -> None:
    """A code loader that raises surfaces as InvalidZipFile."""

    def load() -> bytes:
        raise OSError("blob store down")

    with pytest.raises(InvalidZipFile, match="blob store down"):
        CodeCache(tmp_path).ensure("abc", load)


def test_base64_sha_makes_a_safe_directory_name() -> None:
    """Lambda's base64 CodeSha256 maps to a name without slashes."""
    name = code_dirname("q+/AbC==")
    assert "/" not in name and "+" not in name and "=" not in name
    assert code_dirname("../../x").startswith("h-")
