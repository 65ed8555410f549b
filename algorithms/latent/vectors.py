"""Read the vectors a latent-space job works on: a table, an array, or images flattened.

``data_uri`` may name a table (a ``.parquet`` or ``.csv`` file, or a Tiled table node, e.g. the
autoencoder's ``latent_vectors``), an array file of vectors (N, D), or images (a folder, a stack
file, a Tiled array) that are flattened to one vector per image.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from algorithms.errors import InputDataError

TABLE_SUFFIXES = (".parquet", ".csv")
# Columns that identify rows or hold earlier results rather than coordinates.
NON_FEATURE_COLUMNS = frozenset({"item", "index", "cluster", "label", "class", "name", "uri"})


def table_vectors(table: Any, columns: Sequence[str] | None = None) -> np.ndarray:
    """The numeric feature columns of a DataFrame as float32 (n, d)."""
    if columns:
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise InputDataError(f"the table has no column(s) {', '.join(missing)}", "columns")
        chosen = table[list(columns)]
    else:
        numeric = table.select_dtypes(include="number")
        keep = [c for c in numeric.columns if str(c).lower() not in NON_FEATURE_COLUMNS]
        chosen = numeric[keep]
    if chosen.shape[1] == 0:
        raise InputDataError("the table has no numeric feature columns", "data_uri")
    try:
        return chosen.to_numpy(dtype=np.float32)
    except (TypeError, ValueError) as error:
        raise InputDataError(f"columns are not numeric: {error}", "columns") from None


def flatten_items(array: np.ndarray) -> np.ndarray:
    """(N, ...) items as (N, prod(...)) float32 vectors; a 2D array is taken as vectors."""
    array = np.asarray(array)
    if array.ndim == 1:
        return array.astype(np.float32)[:, np.newaxis]
    return array.reshape(array.shape[0], -1).astype(np.float32)


def _remote_table(uri: str, api_key: str | None) -> Any | None:
    from algorithms.data.tiled_source import tiled_node

    node = tiled_node(uri, api_key)
    if str(getattr(node, "structure_family", "")).endswith("table"):
        return node.read()
    return None


def load_vectors(
    uri: str | None, api_key: str | None = None, columns: Sequence[str] | None = None
) -> np.ndarray:
    """The vectors (n, d) float32 at ``uri``; ``columns`` picks table columns."""
    from algorithms.data import open_dataset, read_array
    from algorithms.data.uris import is_remote

    if not uri:
        raise InputDataError("this algorithm needs vectors or images (inputs.data_uri)", "data_uri")
    if is_remote(uri):
        table = _remote_table(uri, api_key)
        if table is not None:
            return table_vectors(table, columns)
        return flatten_items(read_array(uri, api_key))
    path = Path(uri.removeprefix("file://").split("#", 1)[0]).expanduser()
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        import pandas as pd

        if not path.is_file():
            raise InputDataError(f"table not found: {uri}", "data_uri")
        table = pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path)
        return table_vectors(table, columns)
    if suffix in (".npy", ".npz") or "#" in uri:
        return flatten_items(read_array(uri, api_key))
    return flatten_items(open_dataset(uri, api_key).read())
