"""Which source item became which row (`ImportedItem`): what makes an import safe to run again."""
import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.models import ImportedItem, utcnow


@dataclass
class Entry:
    target_id: int
    checksum: str
    version: int | None
    row: ImportedItem | None = None  # loaded only when it is to be changed


def checksum(*parts) -> str:
    """A stable hash of what was read for an item (strings, numbers, lists, dicts)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


class Ledger:
    """The items one origin imported before, read once per kind (a dict, not a query per item)."""

    def __init__(self, origin: str):
        self.origin = origin
        self._kinds: dict[str, dict[str, Entry]] = {}

    def known(self, kind: str) -> dict[str, Entry]:
        if kind not in self._kinds:
            rows = db.session.execute(
                select(ImportedItem.source_id, ImportedItem.target_id, ImportedItem.checksum, ImportedItem.version)
                .where(ImportedItem.origin == self.origin, ImportedItem.kind == kind))
            self._kinds[kind] = {r.source_id: Entry(r.target_id, r.checksum, r.version) for r in rows}
        return self._kinds[kind]

    def get(self, kind: str, source_id: str) -> Entry | None:
        return self.known(kind).get(source_id)

    def remember(self, kind: str, source_id: str, target_id: int, checksum: str = "", version: int | None = None):
        """Note (in the caller's transaction) that `source_id` became `target_id`."""
        entries = self.known(kind)
        entry = entries.get(source_id)
        if entry is None:
            db.session.add(ImportedItem(origin=self.origin, kind=kind, source_id=source_id, target_id=target_id,
                                        checksum=checksum, version=version))
        elif (entry.target_id, entry.checksum, entry.version) != (target_id, checksum, version):
            row = db.session.scalar(select(ImportedItem).where(
                ImportedItem.origin == self.origin, ImportedItem.kind == kind, ImportedItem.source_id == source_id))
            row.target_id, row.checksum, row.version = target_id, checksum, version
        entries[source_id] = Entry(target_id, checksum, version)

    def remember_many(self, kind: str, rows: list[tuple[str, int, str]]) -> None:
        """New items in bulk (comments): (source_id, target_id, checksum), none known before."""
        if rows:
            db.session.execute(ImportedItem.__table__.insert(), [
                {"origin": self.origin, "kind": kind, "source_id": s, "target_id": t, "checksum": c,
                 "imported_at": utcnow()} for s, t, c in rows])
            self.known(kind).update({s: Entry(t, c, None) for s, t, c in rows})

    def forget_pending(self) -> None:
        """After a rolled-back transaction: what it noted is not in the database."""
        self._kinds.clear()
