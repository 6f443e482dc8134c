"""How the two tables are meant to look (what the checks compare with, and the stack builds).

``logfile`` follows the material's first exercise: key ``PK``, 5 reads and 5 writes, and
``GSI_1`` on ``GSI_1_PK`` projecting only ``bytessent``. ``logfile_replica`` is what the
material's CLI creates: 10 reads and 5 writes, and a ``GSI_1`` that also projects ``requestid``
and ``host``. The material calls them "the same properties"; they are not, and the checks say
which property differs.
"""

from __future__ import annotations

from dataclasses import dataclass

from labkit.deploy.resources import GlobalIndex, StreamView, Table, Tags, Throughput

KEY = "PK"
INDEX = "GSI_1"
INDEX_KEY = "GSI_1_PK"
#: The stream the replicator needs: each record carries the item as it is after the change.
STREAM_VIEW = StreamView.NEW_IMAGE


@dataclass(frozen=True)
class TableDesign:
    """A provisioned table with one INCLUDE index on ``GSI_1_PK``."""

    read: int
    write: int
    index_read: int
    index_write: int
    projected: tuple[str, ...]

    def index_projection(self) -> dict[str, object]:
        return {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(self.projected)}

    def table(self, name: str, *, stream: StreamView | None = None, tags: Tags = ()) -> Table:
        """The table as a deploy resource."""
        index = GlobalIndex(
            INDEX,
            INDEX_KEY,
            projection="INCLUDE",
            non_key_attributes=self.projected,
            capacity=Throughput(self.index_read, self.index_write),
        )
        return Table(
            name,
            KEY,
            stream,
            tags,
            indexes=(index,),
            capacity=Throughput(self.read, self.write),
        )


LOGFILE_DESIGN = TableDesign(read=5, write=5, index_read=5, index_write=5, projected=("bytessent",))
REPLICA_DESIGN = TableDesign(
    read=10, write=5, index_read=10, index_write=5, projected=("bytessent", "requestid", "host")
)
