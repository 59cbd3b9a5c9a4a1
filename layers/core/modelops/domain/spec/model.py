"""The model spec: a model is a YAML document, not code (docs/architecture.md, "A model is a
spec"). ``parse_spec`` turns the YAML into a ``ModelSpec`` or a SpecError naming the field."""

from __future__ import annotations

import difflib
import re
from typing import Literal, get_args, get_origin

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from modelops.domain.data.repeats import DuplicatesPolicy
from modelops.domain.periods import Period
from modelops.domain.spec.sections import (
    _IDENTIFIER,
    MODEL_NAME_PATTERN,
    Campaign,
    Card,
    Drift,
    Estimator,
    Feature,
    FeatureType,
    Online,
    Promotion,
    Schedule,
    Scoring,
    Skew,
    Source,
    SpecError,
    Split,
    WindowSettings,
    _Strict,
)

OPERATIONAL = (
    "description",
    "card",
    "scoring",
    "campaign",
    "drift",
    "skew",
    "online",
    "schedule",
    "shadow",
    "retrain_on_drift",
    "retrain_min_severity",
    "duplicates",
)


def alias_for(column: str) -> str:
    """A feature name (an identifier) for a column name such as 'dew point' or 'TURC [mm d-1]'."""
    name = re.sub(r"[^0-9A-Za-z_]+", "_", column).strip("_").lower() or "feature"
    return f"f_{name}" if name[0].isdigit() else name


class ModelSpec(_Strict):
    name: str
    description: str = ""
    source: Source
    # Column(s) naming who a row is about; none when the data has one row per timestamp
    # (the timestamp is then the key), several for a composite key (joined with '|').
    entity: str | list[str] | None = None
    # An entity repeated within a period (domain/data/repeats.py): fail the run, or keep its
    # first or last row of the period by the timestamp (the run's results count the rest).
    duplicates: DuplicatesPolicy = "fail"
    timestamp: str = Field(min_length=1)
    period: Period = "month"
    outcome: str = Field(min_length=1)
    features: dict[str, Feature] = Field(min_length=1)
    estimator: Estimator
    split: Split = Split()
    promotion: Promotion = Promotion()
    window: WindowSettings = WindowSettings()
    scoring: Scoring = Scoring()
    campaign: Campaign = Campaign()
    drift: Drift = Drift()
    skew: Skew = Skew()
    online: Online = Online()
    schedule: Schedule = Schedule()
    # Score the newest registered version that is not the champion alongside it, into the
    # score history only (source=shadow): a challenger's record before it may be promoted.
    shadow: bool = False
    # Start a retraining when a drift alert of at least retrain_min_severity is sent; the
    # promotion gate still decides whether the retrained model replaces the champion.
    retrain_on_drift: bool = False
    retrain_min_severity: Literal["low", "medium", "high"] = "high"
    card: Card = Card()  # the model card's free text (intended use, owner, limitations, notes)

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not re.fullmatch(MODEL_NAME_PATTERN, name):
            raise ValueError("must be lowercase letters, digits, '-' or '_', starting with a letter")
        return name

    @field_validator("entity")
    @classmethod
    def _entity(cls, entity: str | list[str] | None) -> str | list[str] | None:
        columns = [entity] if isinstance(entity, str) else entity or []
        if any(not column for column in columns):
            raise ValueError("an entity column name cannot be empty")
        if len(set(columns)) < len(columns):
            raise ValueError("an entity column is listed twice")
        return entity

    @field_validator("features")
    @classmethod
    def _feature_names(cls, features: dict[str, Feature]) -> dict[str, Feature]:
        for name, feature in features.items():
            if not _IDENTIFIER.match(name):
                raise ValueError(
                    f"{name!r} is not an identifier (letters, digits, _): name the feature "
                    f"{alias_for(name)} and read the column with `{alias_for(name)}: "
                    f'{{column: "{name}", type: {feature.type.value}}}`'
                )
        return features

    @model_validator(mode="after")
    def _distinct_columns(self) -> ModelSpec:
        roles = dict.fromkeys(self.entity_columns, "entity")
        for role in ("timestamp", "outcome"):
            column = getattr(self, role)
            if column in roles:
                raise ValueError(f"{role}: {column!r} is already the {roles[column]}")
            roles[column] = role
        for name in self.features:
            column = self.column_of(name)
            if column in roles:
                raise ValueError(f"features.{name}: column {column!r} is the {roles[column]}, not a feature")
            roles[column] = f"feature {name}"
        for name in self.online.realtime_features:
            if name not in self.features:
                raise ValueError(f"online.realtime_features: {name!r} is not a feature")
        self._check_segments()
        return self

    def _check_segments(self) -> None:
        """drift.segments name categorical features of the spec, each once."""
        for name in self.drift.segments:
            if name not in self.features:
                close = difflib.get_close_matches(name, list(self.features), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ValueError(f"drift.segments: {name!r} is not a feature{hint}")
            kind = self.features[name].type
            if kind is not FeatureType.categorical:
                raise ValueError(
                    f"drift.segments: {name!r} is {kind.value}; segments are categorical features"
                )
        if len(set(self.drift.segments)) < len(self.drift.segments):
            raise ValueError("drift.segments: a feature is listed twice")

    @property
    def entity_columns(self) -> list[str]:
        """The columns whose values, joined, identify an entity (empty: the timestamp does)."""
        if self.entity is None:
            return []
        return [self.entity] if isinstance(self.entity, str) else list(self.entity)

    @property
    def entity_key(self) -> tuple[str, ...]:
        """The columns whose values name an entity: the entity columns, else the timestamp."""
        return tuple(self.entity_columns or [self.timestamp])

    @property
    def feature_names(self) -> list[str]:
        return list(self.features)

    def column_of(self, feature: str) -> str:
        """The query result's column a feature reads."""
        return self.features[feature].column or feature

    def needed_columns(self, *, with_outcome: bool) -> list[str]:
        columns = [*self.entity_columns, self.timestamp, *(self.column_of(n) for n in self.features)]
        return [*columns, self.outcome] if with_outcome else columns

    def operated_by(self, current: ModelSpec) -> ModelSpec:
        """This spec (a version's recipe) with the operational sections of ``current`` (the
        stored spec): how the version is scored today. SpecError if they do not fit together."""
        document = self.model_dump(mode="json")
        document.update({name: current.model_dump(mode="json")[name] for name in OPERATIONAL})
        for name, feature in current.features.items():  # what scoring does with refused values
            if name in document["features"]:
                document["features"][name]["on_invalid"] = feature.on_invalid
        try:
            return ModelSpec.model_validate(document)
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"])
            message = str(first["msg"]).removeprefix("Value error, ")
            raise SpecError(
                f"model {self.name!r}: the stored spec's operational settings do not fit the version's "
                f"recipe: {field + ': ' if field else ''}{message}"
            ) from None

    def require_columns(self, columns: list[str], *, with_outcome: bool) -> None:
        """Raise SpecError naming the first spec column the data does not have."""
        for column in self.needed_columns(with_outcome=with_outcome):
            if column not in columns:
                close = difflib.get_close_matches(column, columns, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise SpecError(
                    f"model {self.name!r}: column {column!r} named in the spec is not in the "
                    f"query result{hint} (columns: {', '.join(columns)})"
                )


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The spec section (a pydantic model) that holds the field at ``loc``."""
    model: type[BaseModel] = ModelSpec
    parts = list(loc[:-1])
    while parts:
        field = model.model_fields.get(str(parts.pop(0)))
        if field is None:
            return None
        annotation = field.annotation
        if get_origin(annotation) is dict:
            annotation = get_args(annotation)[1]
            if parts:
                parts.pop(0)  # the mapping's key (a feature's name)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def _unknown_field(loc: tuple[int | str, ...]) -> str:
    model = _model_at(loc)
    known = list(model.model_fields) if model else []
    close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
    if close:
        return f"unknown field; did you mean {close[0]!r}?"
    return f"unknown field (known: {', '.join(known)})" if known else "unknown field"


def parse_spec(text: str, source: str = "spec") -> ModelSpec:
    """Parse and validate a YAML model spec; every mistake becomes a SpecError naming the field.
    An unknown field is reported before anything else (a typo often also makes a field
    missing), with the field it probably meant."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise SpecError(f"{source}: not valid YAML: {error}") from None
    if not isinstance(document, dict):
        raise SpecError(f"{source}: a spec is a YAML mapping, got {type(document).__name__}")
    try:
        return ModelSpec.model_validate(document)
    except ValidationError as error:
        errors = error.errors()
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = _unknown_field(first["loc"])
        elif first["type"] == "missing":
            message = "required, and missing"
        field = ".".join(str(part) for part in first["loc"])
        # Checks across fields (loc is empty) name their fields in the message.
        raise SpecError(f"{source}: {field}: {message}" if field else f"{source}: {message}") from None
