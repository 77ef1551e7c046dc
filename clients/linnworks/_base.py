"""Shared pieces of the Linnworks models: dates, money, the three base classes, enums, the session."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import IntEnum, StrEnum
from types import MappingProxyType
from typing import Annotated, Any, get_args
from uuid import UUID

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    model_validator,
)
from pydantic.fields import FieldInfo

ZERO_GUID = UUID(int=0)
"""Linnworks' "unset" GUID; also the id of the Default stock location."""

WIRE: Mapping[str, Any] = MappingProxyType({"extra": "ignore"})
"""How data parsed from a Linnworks reply is validated (``model_validate(data, **WIRE)``): round-trip models
drop the fields they do not know, at every depth (pydantic's run-time ``extra``: a Python filter in every
nested object cost a sixth of reading an order)."""

_UNSET_YEAR = 1
_LAST_MOMENT = datetime.max.replace(tzinfo=UTC)
_DATE = re.compile(
    r"^(?P<base>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(?P<frac>\d{1,7}))?(?P<tz>Z|[+-]\d{2}:?\d{2})?$"
)


def parse_linnworks_datetime(value: Any) -> datetime | None:
    """Read a Linnworks date: ``Z`` or ``±hh:mm``, 0-7 fractional digits; the year-1 "unset" date is None.

    A date without an offset is taken as UTC (Linnworks stores UTC). The result is always UTC-aware. .NET's
    largest date (``9999-12-31T23:59:59``, "no end") with a negative offset lies past the last moment Python
    can hold in UTC: it reads as that last moment.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    else:
        moment = _parse_date_text(str(value))
    if moment.year == _UNSET_YEAR:
        return None
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return _LAST_MOMENT


def _parse_date_text(text: str) -> datetime:
    text = text.strip()
    if _DATE.match(text) is None:
        raise ValueError("not an ISO 8601 date-time")
    # Every form the pattern admits (Z or an offset, 0-7 fractional digits, the 7th dropped) is one that
    # datetime.fromisoformat reads since Python 3.11, at a twentieth of the cost of building it by hand.
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _format_date(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _format_required_date(value: datetime | None) -> str:
    # .NET DateTime fields that are not nullable: "unset" travels as year 1, never as null.
    return _format_date(value) or "0001-01-01T00:00:00Z"


LwDateTime = Annotated[
    datetime | None,
    BeforeValidator(parse_linnworks_datetime),
    PlainSerializer(_format_date, return_type=str | None, when_used="json"),
]
"""A nullable Linnworks date."""

LwRequiredDateTime = Annotated[
    datetime | None,
    BeforeValidator(parse_linnworks_datetime),
    PlainSerializer(_format_required_date, return_type=str, when_used="json"),
]
"""A non-nullable .NET date: None in Python, ``0001-01-01T00:00:00Z`` on the wire."""

Money = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]
"""An amount: exact in Python, a JSON number on the wire (the spec types it as double)."""


class _NullTolerant(BaseModel):
    """.NET writes an empty collection or an unset string as ``null``: a null for a field with a default
    reads as that default (``[]``, ``""``, ``False``, a fresh row id), never as a validation error."""

    @model_validator(mode="before")
    @classmethod
    def _null_means_default(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        # Only the few fields whose default a null would change are looked at (every nested object of a
        # reply comes through here): a null for a field that defaults to None is that default already.
        nulls = [name for name in cls._null_changes() if name in data and data[name] is None]
        if not nulls:
            return data
        return {key: value for key, value in data.items() if key not in nulls}

    @classmethod
    def _null_changes(cls) -> tuple[str, ...]:
        """The names (and aliases) of fields with a default that a null would not give: a default other
        than None, or a None default of a type that refuses None."""
        names = _NULL_CHANGES.get(cls)
        if names is None:
            names = tuple(
                name
                for key, field in cls.model_fields.items()
                if not field.is_required() and not _none_is_default(field)
                for name in dict.fromkeys((key, field.alias))
                if name
            )
            _NULL_CHANGES[cls] = names
        return names


def _none_is_default(field: FieldInfo) -> bool:
    """Whether validating a null gives the field's default: a None default of a type that accepts None."""
    if field.default_factory is not None or field.default is not None:
        return False
    annotation = field.annotation
    return annotation is Any or annotation is type(None) or type(None) in get_args(annotation)


_NULL_CHANGES: dict[type[BaseModel], tuple[str, ...]] = {}


class _Inbound(_NullTolerant):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, serialize_by_alias=True)


class _Outbound(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)


class _RoundTrip(_NullTolerant):
    """Built in code, an unknown field is an error (a typo); parsed from a reply (``WIRE``), it is dropped."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)


# --- enums ------------------------------------------------------------------------------------------------


class OrderStatus(IntEnum):
    """``GeneralInfo.Status``."""

    UNPAID = 0
    PAID = 1
    RETURN = 2
    PENDING = 3
    RESEND = 4


class StockItemsFullDataRequirement(StrEnum):
    """``dataRequirements`` of Stock/GetStockItemsFull (names; ordinals differ from the ByIds enum)."""

    STOCK_LEVELS = "StockLevels"
    PRICING = "Pricing"
    SUPPLIER = "Supplier"
    SHIPPING_INFORMATION = "ShippingInformation"
    CHANNEL_TITLE = "ChannelTitle"
    CHANNEL_DESCRIPTION = "ChannelDescription"
    CHANNEL_PRICE = "ChannelPrice"
    EXTENDED_PROPERTIES = "ExtendedProperties"
    IMAGES = "Images"


class StockItemsFullByIdsDataRequirement(StrEnum):
    """``DataRequirements`` of Stock/GetStockItemsFullByIds."""

    STOCK_LEVELS = "StockLevels"
    SUPPLIER = "Supplier"
    CHANNEL_TITLE = "ChannelTitle"
    CHANNEL_DESCRIPTION = "ChannelDescription"
    CHANNEL_PRICE = "ChannelPrice"
    EXTENDED_PROPERTIES = "ExtendedProperties"
    IMAGES = "Images"


class StockSearchType(StrEnum):
    """``searchTypes`` of Stock/GetStockItemsFull."""

    SKU = "SKU"
    TITLE = "Title"
    BARCODE = "Barcode"


# --- auth -------------------------------------------------------------------------------------------------


class BaseSession(_Inbound):
    """The reply of Auth/AuthorizeByApplication; only the fields a client needs."""

    token: str = Field(alias="Token", min_length=1, repr=False)
    server: str = Field(alias="Server", pattern=r"^https?://")
    ttl: int | None = Field(default=None, alias="TTL")


class _AuthorizeByApplicationRequest(_Outbound):
    application_id: str = Field(alias="ApplicationId")
    application_secret: str = Field(alias="ApplicationSecret", repr=False)
    token: str = Field(alias="Token", repr=False)
