"""Generated: every Linnworks reply model reads a reply in which every optional field is ``null``.

.NET (Newtonsoft, nulls included) writes an unset collection or string as ``null``. The test walks every model
that is read from a reply (``_Inbound`` and ``_RoundTrip`` subclasses in ``clients/linnworks/``), fills the
fields the model requires with a plausible value and sets every other field to ``null``: validation must
pass, and every collection must read as empty (``[]``, or None where the model keeps null apart).
"""

from __future__ import annotations

import types
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Union, get_args, get_origin
from uuid import UUID, uuid4

import pytest
from pydantic import BaseModel

from clients.linnworks import _base, _orders, _queries, _stock
from clients.linnworks.models import WIRE


def _reply_models() -> list[type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    for module in (_base, _orders, _queries, _stock):
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, _base._Inbound | _base._RoundTrip)
                and value not in (_base._Inbound, _base._RoundTrip)
            ):
                found[value.__name__] = value
    return [found[name] for name in sorted(found)]


REPLY_MODELS = _reply_models()


def _strip(annotation: Any) -> Any:
    """The type inside ``Annotated[...]`` and ``X | None``."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, types.UnionType):
        options = [arg for arg in get_args(annotation) if arg is not type(None)]
        return _strip(options[0])
    return annotation


def _sample(annotation: Any) -> Any:
    """A wire value for a required field of this type."""
    kind = _strip(annotation)
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return _all_null_reply(kind)
    if get_origin(kind) is list:
        return []
    if isinstance(kind, type) and issubclass(kind, Enum):
        return next(iter(kind)).value
    samples: dict[Any, Any] = {
        UUID: str(uuid4()),
        str: "https://x.example",  # also passes the URL pattern of BaseSession.Server
        bool: True,
        int: 1,
        float: 1.0,
        Decimal: 1,
        datetime: "2024-05-01T10:15:00.157Z",
    }
    return samples[kind]


def _all_null_reply(model: type[BaseModel]) -> dict[str, Any]:
    return {
        field.alias or name: _sample(field.annotation) if field.is_required() else None
        for name, field in model.model_fields.items()
    }


def _is_collection(annotation: Any) -> bool:
    return get_origin(_strip(annotation)) in (list, dict)


def test_every_reply_model_is_walked() -> None:
    """The walk finds the reply models the flows read (a rename cannot silently shrink it)."""
    names = {model.__name__ for model in REPLY_MODELS}
    assert {"AssignResult", "StockItemFull", "OrderNote", "Identifier", "OrderDetails"} <= names
    assert len(names) >= 20


@pytest.mark.parametrize("model", REPLY_MODELS, ids=lambda model: model.__name__)
def test_a_reply_with_every_optional_field_null_is_read(model: type[BaseModel]) -> None:
    """Every optional field null: the model reads it, collections as empty, strings as empty or None."""
    parsed = model.model_validate(_all_null_reply(model), **WIRE)
    for name, field in model.model_fields.items():
        value = getattr(parsed, name)
        if _is_collection(field.annotation):
            assert value in ([], {}, None), f"{model.__name__}.{name} read null as {value!r}"
        if not field.is_required() and field.default_factory is list:
            assert value == [], f"{model.__name__}.{name}: a null collection must read as []"
