"""Each platform client declares the operations it calls (their metric series start at zero,
SinkMetrics.start_channel): the declaration must cover every operation its module names."""

from __future__ import annotations

import ast
import inspect

import pytest

from streamproc.sink._client import PlatformClient
from streamproc.sink._linkedin import LinkedInClient
from streamproc.sink._meta import FacebookClient, InstagramClient
from streamproc.sink._twitter import TwitterClient
from streamproc.sink._youtube import YouTubeClient

# The argument that names the operation: self.call(operation, ...), self._charged(cost, operation)
OPERATION_ARGUMENT = {"call": 0, "_charged": 1}


def _strings(node: ast.expr, assigned: dict[str, list[ast.expr]]) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _strings(node.body, assigned) | _strings(node.orelse, assigned)
    if isinstance(node, ast.Name):
        return set().union(*(_strings(v, assigned) for v in assigned.get(node.id, [])))
    return set()


def _operations_called(cls: type[PlatformClient]) -> set[str]:
    found: set[str] = set()
    for klass in cls.__mro__:
        if klass in (PlatformClient, object):
            continue
        tree = ast.parse(inspect.getsource(klass))
        for function in ast.walk(tree):
            if not isinstance(function, ast.AsyncFunctionDef | ast.FunctionDef):
                continue
            assigned: dict[str, list[ast.expr]] = {}
            for node in ast.walk(function):
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            assigned.setdefault(target.id, []).append(node.value)
            for node in ast.walk(function):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in OPERATION_ARGUMENT
                    and len(node.args) > OPERATION_ARGUMENT[node.func.attr]
                ):
                    argument = node.args[OPERATION_ARGUMENT[node.func.attr]]
                    found |= _strings(argument, assigned)
    return found


@pytest.mark.parametrize(
    "client",
    [FacebookClient, InstagramClient, TwitterClient, YouTubeClient, LinkedInClient],
    ids=lambda c: c.channel,
)
def test_each_client_declares_the_operations_it_calls(client: type[PlatformClient]) -> None:
    called = _operations_called(client)
    assert called, "the parser found no operation"
    assert called == set(client.operations), client.channel
