"""Datasets, readers and loaders, all speaking the jet-table contract (:mod:`.table`)."""

from __future__ import annotations

from heplearn.data.convert import convert
from heplearn.data.dataset import (
    Dataset,
    DatasetWriter,
    open_dataset,
    read_dataset,
    write_dataset,
)
from heplearn.data.readers import (
    FORMATS,
    JETCLASS_LABELS,
    detect_format,
    format_inspection,
    inspect,
    iter_jet_tables,
    read,
    read_root_tree,
)
from heplearn.data.table import (
    CONSTITUENT_FIELDS,
    JET_FIELDS,
    class_counts,
    flatten_events,
    from_constituents,
    validate_jet_table,
)

__all__ = [
    "Dataset",
    "DatasetWriter",
    "open_dataset",
    "read_dataset",
    "write_dataset",
    "CONSTITUENT_FIELDS",
    "JET_FIELDS",
    "class_counts",
    "flatten_events",
    "from_constituents",
    "validate_jet_table",
    "FORMATS",
    "JETCLASS_LABELS",
    "convert",
    "detect_format",
    "format_inspection",
    "inspect",
    "iter_jet_tables",
    "read",
    "read_root_tree",
]
