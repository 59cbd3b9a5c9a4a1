"""Reading template.yaml: CloudFormation's YAML tags and the intrinsic functions the
sandbox needs to resolve (Ref, GetAtt, Sub, Join). The one CloudFormation loader of the
developer side (the sandbox, the IAM check and `make sizes` read templates with it)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

try:  # libyaml's parser: PyYAML's wheels carry it
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # a PyYAML built without it
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]

_SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")


class _CfnLoader(_SafeLoader):
    """A safe loader, libyaml's where PyYAML has it: a quarter of the pure-Python one's time
    on template.yaml, which every sandbox and every CLI command that connects reads."""


def _tag(loader: yaml.constructor.SafeConstructor, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


def load(path: Path) -> dict[str, Any]:
    """A CloudFormation template, its short tags (``!Ref X``, ``!GetAtt A.B``, ...) in the long
    form (``{"Ref": "X"}``, ``{"Fn::GetAtt": ["A", "B"]}``)."""
    return parse(path.read_text(), str(path))


def parse(text: str, source: str = "template") -> dict[str, Any]:
    """A CloudFormation template's text (YAML or JSON), its short tags in the long form."""
    document = yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - a safe loader  # nosec B506
    if not isinstance(document, dict):
        raise ValueError(f"{source}: not a CloudFormation template")
    return document


NO_VALUE = object()  # AWS::NoValue: the property or list item is left out


class Resolver:
    """Resolves intrinsic functions against what the sandbox has created so far (and the
    template's conditions: Fn::If, Fn::Not, Fn::Equals, Fn::And, Fn::Or, Condition; a
    CommaDelimitedList parameter, named in ``lists``, is a list)."""

    def __init__(
        self,
        parameters: dict[str, str],
        region: str,
        account: str,
        *,
        conditions: dict[str, Any] | None = None,
        lists: frozenset[str] = frozenset(),
    ) -> None:
        self.conditions = conditions or {}
        self.lists = lists
        self.refs: dict[str, str] = {
            **parameters,
            "AWS::Region": region,
            "AWS::AccountId": account,
            "AWS::Partition": "aws",
            "AWS::StackName": "modelops-local",
            "AWS::URLSuffix": "amazonaws.com",
        }
        self.attributes: dict[tuple[str, str], str] = {}

    def condition(self, name: str) -> bool:
        return bool(self._evaluate(self.conditions[name]))

    def _evaluate(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Condition":
                return self.condition(argument)
            if key == "Fn::Not":
                return not self._evaluate(argument[0])
            if key == "Fn::And":
                return all(self._evaluate(item) for item in argument)
            if key == "Fn::Or":
                return any(self._evaluate(item) for item in argument)
            if key == "Fn::Equals":
                return self.resolve(argument[0]) == self.resolve(argument[1])
        return self.resolve(value)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in (self.resolve(item) for item in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref" and argument == "AWS::NoValue":
                return NO_VALUE
            if key == "Ref" and argument in self.lists:
                return self.refs[argument].split(",")
            if key == "Ref":
                return self.refs[argument]
            if key == "Fn::If" and argument[0] in self.conditions:
                name, chosen, other = argument
                return self.resolve(chosen if self.condition(name) else other)
            if key == "Fn::Split":
                separator, text = argument
                return str(self.resolve(text)).split(separator)
            if key == "Fn::GetAtt":
                return self.attributes[(argument[0], argument[1])]
            if key == "Fn::Sub":
                return self._sub(argument)
            if key == "Fn::Join":
                separator, items = argument
                return separator.join(str(item) for item in self.resolve(items))
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _sub(self, argument: str | list[Any]) -> str:
        if isinstance(argument, list):
            text, extra = argument[0], {k: self.resolve(v) for k, v in argument[1].items()}
        else:
            text, extra = argument, {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in extra:
                return str(extra[name])
            if "." in name and name not in self.refs:
                logical, attribute = name.split(".", 1)
                return self.attributes[(logical, attribute)]
            return self.refs[name]

        # ${!Name} is CloudFormation's escape for a literal ${Name}.
        return _SUB_VARIABLE.sub(replace, text).replace("${!", "${")
