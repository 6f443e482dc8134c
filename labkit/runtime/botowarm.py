"""Warm botocore in the fork server's template, keeping nothing a worker's environment decides.

A worker's first ``boto3.client(...)`` spends most of its time on work whose answer is the same
in every worker, because it depends only on the installed boto3 and botocore:

- parsing botocore's endpoint, partition and service JSON files;
- listing botocore's and boto3's data folders (about 400 services, to learn which exist and in
  which API versions; some 13 ms);
- inspecting each of the ~130 built-in event handlers' signatures and working out the aliased
  name of each event they are registered for (some 8 ms per session);
- botocore's lazy imports and compiled regular expressions (made by the first client).

:func:`prepare` does that work once, in the template, before any worker is forked. Each answer is
kept by what it was computed from (a file's path inside the installed package, a handler function
object, an event name with the alias table it was translated with), so a worker reuses it only
where it would compute exactly the same thing; everything else (other folders on
``AWS_DATA_PATH``, ``~/.aws/models``, handlers a function registers) is computed as before. No
session, client, credentials or configuration of the warm-up survive it: each worker still builds
its own from its own environment.

Standard library and botocore/boto3 only (it runs in the template).
"""

from __future__ import annotations

import contextlib
import os
import types
from collections.abc import Callable, Iterable
from typing import Any

# botocore data files parsed once, so that a worker's first client skips parsing them
# (endpoints.json alone takes about 20 ms). Service models with "extras" files are left out:
# botocore merges those into the loaded model, which must then not be shared.
SHARED_DATA = ("endpoints", "partitions", "sdk-default-configuration")
SHARED_SERVICES = ("dynamodb", "dynamodbstreams", "kinesis", "sqs", "sns", "s3", "lambda", "sts")
# The clients made (and dropped) in the template to run botocore's first-client code paths.
WARM_SERVICES = ("dynamodb",)

_WARM_SETTINGS = {
    "region_name": "us-east-1",
    "aws_access_key_id": "warm-up",
    "aws_secret_access_key": "warm-up",
    "endpoint_url": "http://127.0.0.1:9",
}

# service -> API version -> the data types (service-2, paginators-1, ...) found there
_Tree = dict[str, dict[str, frozenset[str]]]


def prepare() -> None:
    """Do the environment-independent first-client work (see the module docstring) in this
    process, before it forks workers. Each step is skipped if it fails."""
    for step in (_share_data, _share_package_listings, _remember_handler_facts):
        with contextlib.suppress(Exception):
            step()


def _share_data() -> None:
    """Parse :data:`SHARED_DATA` and the :data:`SHARED_SERVICES` models once and have botocore's
    JSON file loader answer those paths from memory (still the very same data)."""
    from botocore import loaders

    parsed: dict[str, Any] = {}
    reader = loaders.JSONFileLoader()
    loader = loaders.create_loader()
    paths = [os.path.join(loader.BUILTIN_DATA_PATH, name) for name in SHARED_DATA]
    for service in SHARED_SERVICES:
        with contextlib.suppress(Exception):
            version = loader.determine_latest_version(service, "service-2")
            folder = os.path.join(loader.BUILTIN_DATA_PATH, service, version)
            if not reader.exists(os.path.join(folder, "service-2.sdk-extras")):
                paths += [
                    os.path.join(folder, "service-2"),
                    os.path.join(folder, "endpoint-rule-set-1"),
                ]
    for path in paths:
        data = reader.load_file(path)
        if data is not None:
            parsed[path] = data
    original = loaders.JSONFileLoader.load_file

    def load_file(self: Any, file_path: str) -> Any:
        found = parsed.get(file_path)
        return found if found is not None else original(self, file_path)

    loaders.JSONFileLoader.load_file = load_file  # type: ignore[method-assign]


def _package_data_folders() -> list[str]:
    """The data folders shipped inside the installed botocore and boto3 packages."""
    from botocore import loaders

    folders = [loaders.Loader.BUILTIN_DATA_PATH]
    with contextlib.suppress(Exception):
        import boto3

        folders.append(os.path.join(os.path.dirname(boto3.__file__), "data"))
    return [folder for folder in folders if os.path.isdir(folder)]


def _read_tree(folder: str, extensions: Iterable[str]) -> _Tree:
    """service -> API version -> the data types (``service-2``, ``paginators-1``, ...) that
    ``folder`` holds a file for, with one of botocore's JSON ``extensions``."""
    tree: _Tree = {}
    for service in sorted(os.listdir(folder)):
        service_dir = os.path.join(folder, service)
        if not os.path.isdir(service_dir):
            continue
        versions: dict[str, frozenset[str]] = {}
        for version in os.listdir(service_dir):
            version_dir = os.path.join(service_dir, version)
            found: set[str] = set()
            with contextlib.suppress(OSError):
                for entry in os.listdir(version_dir):
                    for extension in extensions:
                        if entry.endswith(extension) and os.path.isfile(
                            os.path.join(version_dir, entry)
                        ):
                            found.add(entry[: -len(extension)])
            versions[version] = frozenset(found)
        tree[service] = versions
    return tree


def _share_package_listings() -> None:
    """Read the installed packages' data folders once and have botocore's loader answer "which
    services exist" and "which API versions does a service have" from that reading for those
    folders; any other folder on the search path (``AWS_DATA_PATH``, ``~/.aws/models``) is
    still read from disk each time, as botocore does."""
    from botocore import loaders
    from botocore.exceptions import DataNotFoundError

    extensions = tuple(getattr(loaders, "_JSON_OPEN_METHODS", {".json": None}))
    trees: dict[str, _Tree] = {
        folder: _read_tree(folder, extensions) for folder in _package_data_folders()
    }
    # folder -> data type -> the services with a file of that type in some version
    having: dict[str, dict[str, set[str]]] = {}
    for folder, tree in trees.items():
        index = having.setdefault(folder, {})
        for service, versions in tree.items():
            for found in versions.values():
                for type_name in found:
                    index.setdefault(type_name, set()).add(service)

    def list_available_services(self: Any, type_name: str) -> list[str]:
        services: set[str] = set()
        for folder in self._potential_locations():
            index = having.get(folder)
            if index is not None:
                services.update(index.get(type_name, ()))
                continue
            for name in os.listdir(folder):
                service_dir = os.path.join(folder, name)
                if not os.path.isdir(service_dir):
                    continue
                for version in os.listdir(service_dir):
                    if self.file_loader.exists(os.path.join(service_dir, version, type_name)):
                        services.add(name)
                        break
        return sorted(services)

    def list_api_versions(self: Any, service_name: str, type_name: str) -> list[str]:
        versions: set[str] = set()
        for folder in self._potential_locations(service_name, must_exist=True, is_dir=True):
            parent = os.path.dirname(folder)
            tree = trees.get(parent) if os.path.basename(folder) == service_name else None
            if tree is not None and service_name in tree:
                versions.update(v for v, found in tree[service_name].items() if type_name in found)
                continue
            for version in os.listdir(folder):
                if self.file_loader.exists(os.path.join(folder, version, type_name)):
                    versions.add(version)
        if not versions:
            raise DataNotFoundError(data_path=service_name)
        return sorted(versions)

    loaders.Loader.list_available_services = loaders.instance_cache(  # type: ignore[method-assign]
        list_available_services
    )
    loaders.Loader.list_api_versions = loaders.instance_cache(  # type: ignore[method-assign]
        list_api_versions
    )


def _remember_handler_facts() -> None:
    """Make one session and client per :data:`WARM_SERVICES` (and drop them), remembering two
    pure answers they needed: whether a handler function accepts ``**kwargs`` (per function
    object), and each event name's aliased form (per event name, for botocore's own alias
    table). New sessions then start with those answers; new questions are computed as usual."""
    import boto3.session
    import botocore.session
    from botocore import handlers, hooks

    original_accepts = hooks.accepts_kwargs
    accepts: dict[Callable[..., Any], Any] = {}
    learning = True

    def accepts_kwargs(func: Callable[..., Any]) -> Any:
        with contextlib.suppress(KeyError, TypeError):
            return accepts[func]
        answer = original_accepts(func)
        if learning and isinstance(func, types.FunctionType) and func.__closure__ is None:
            accepts[func] = answer
        return answer

    hooks.accepts_kwargs = accepts_kwargs
    for spec in handlers.BUILTIN_HANDLERS:  # module-level objects, as long-lived as functions
        with contextlib.suppress(TypeError):
            accepts[spec[1]] = original_accepts(spec[1])
    aliases: dict[str, str] = {}
    with contextlib.suppress(Exception):
        session = botocore.session.Session()
        warm = boto3.session.Session(botocore_session=session)
        for service in WARM_SERVICES:
            client = warm.client(service, **_WARM_SETTINGS)  # type: ignore[call-overload]
            aliases.update(getattr(client.meta.events, "_alias_name_cache", {}))
        aliases.update(getattr(warm.events, "_alias_name_cache", {}))
    learning = False
    if not aliases:
        return
    table = dict(hooks.EVENT_ALIASES)
    original_init = hooks.EventAliaser.__init__

    def __init__(self: Any, event_emitter: Any, event_aliases: Any = None) -> None:
        original_init(self, event_emitter, event_aliases)
        if self._event_aliases == table:
            self._alias_name_cache.update(aliases)

    hooks.EventAliaser.__init__ = __init__  # type: ignore[method-assign]
