"""The OpenAPI document describes exactly the API blueprint's routes, and every reference in it resolves."""

from __future__ import annotations

import re

from portal.api import openapi

PREFIX = "/api/v1"
CONVERTER = re.compile(r"<(?:(?P<converter>[^:<>]+):)?(?P<name>[^<>]+)>")
METHODS = {"get", "put", "post", "delete", "patch"}


def _rules(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] == "api":
            yield rule, CONVERTER.sub(r"{\g<name>}", rule.rule.removeprefix(PREFIX))


def test_paths_and_methods_are_the_url_map(app):
    documented = {
        (path, method.upper())
        for path, item in openapi.document()["paths"].items()
        for method in item
        if method in METHODS
    }
    routes = {(path, method) for rule, path in _rules(app) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented - routes == set(), "documented but not served"
    assert routes - documented == set(), "served but not documented"


def test_path_parameters_are_the_rules_arguments(app):
    doc = openapi.document()
    for rule, path in _rules(app):
        for method, op in doc["paths"][path].items():
            declared = {}
            for parameter in op.get("parameters", []):
                if "$ref" in parameter:
                    parameter = doc["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[1]]
                if parameter["in"] == "path":
                    declared[parameter["name"]] = parameter["schema"]["type"]
            converters = {m["name"]: m["converter"] for m in CONVERTER.finditer(rule.rule)}
            assert set(declared) == set(converters), f"{method} {path}"
            assert all(declared[name] == "integer" for name in converters), path
            assert set(converters.values()) <= {"id", "year"}, path  # bounded: no number can overflow a column


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_every_reference_resolves_and_operation_ids_are_unique(app):
    doc = openapi.document()
    for target in _refs(doc):
        node = doc
        for part in target.removeprefix("#/").split("/"):
            node = node[part]
    operations = [op for item in doc["paths"].values() for op in item.values()]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))
    for op in operations:
        for response in op["responses"].values():
            for link in response.get("links", {}).values():
                assert link["operationId"] in ids


def test_every_secured_operation_answers_401_and_lists_pages_say_so():
    doc = openapi.document()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if op.get("security") == []:
                continue
            assert "401" in op["responses"], f"{method} {path}"
            names = {p.get("$ref", "").rsplit("/", 1)[-1] for p in op["parameters"]}
            if op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("Page"):
                assert {"page", "per_page"} <= names and "Link" in op["responses"]["200"]["headers"], path


def test_schemathesis_loads_it(client):
    import schemathesis

    schema = schemathesis.openapi.from_dict(client.get("/api/v1/openapi.json").get_json())
    assert len(list(schema.get_all_operations())) == sum(
        1 for item in openapi.document()["paths"].values() for method in item if method in METHODS
    )
