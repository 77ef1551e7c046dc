"""Adding one note to a Linnworks order without losing the others (SetOrderNotes replaces the whole list)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from clients.linnworks import LinnworksClient, OrderNote

__all__ = ["add_order_note"]

NOTE_AUTHOR = "lw3pl"


def add_order_note(linnworks: LinnworksClient, order_id: UUID, text: str) -> bool:
    """Append ``text`` as an internal note unless the order already has it; True when a note was written."""
    notes = linnworks.get_order_notes(order_id)
    if any(note.note == text for note in notes):
        return False
    new = OrderNote(
        order_id=order_id, note=text, internal=True, note_date=datetime.now(UTC), created_by=NOTE_AUTHOR
    )
    linnworks.set_order_notes(order_id, [*notes, new])
    return True
