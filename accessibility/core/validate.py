"""Checks of the input contracts, run where data enters the pipeline."""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from accessibility.core.errors import (
    CRSError,
    DataWarning,
    DuplicateIdError,
    MissingColumnError,
)


def require_columns(df: pd.DataFrame, columns: Iterable[str], *, where: str) -> None:
    """Raise :class:`MissingColumnError` naming ``where`` and the missing columns."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        have = ", ".join(map(str, df.columns[:30]))
        raise MissingColumnError(
            f"{where}: missing column(s) {', '.join(missing)}; the columns found are: {have}"
        )


def require_unique(df: pd.DataFrame, column: str, *, where: str) -> None:
    """Raise :class:`DuplicateIdError` if ``column`` has duplicate values."""
    dup = df[column][df[column].duplicated(keep=False)]
    if len(dup):
        sample = ", ".join(map(str, dup.unique()[:10]))
        raise DuplicateIdError(
            f"{where}: column {column!r} must hold unique ids; {dup.nunique()} value(s) "
            f"appear more than once: {sample}"
        )


def require_crs(gdf: gpd.GeoDataFrame, *, where: str, expected: CRS | str | None = None) -> None:
    """Raise :class:`CRSError` when ``gdf`` has no CRS, or not ``expected``."""
    if gdf.crs is None:
        raise CRSError(
            f"{where}: the data has no coordinate reference system (CRS); expected "
            f"{expected or 'one'}: set it in the file or with GeoDataFrame.set_crs()"
        )
    if expected is not None and CRS.from_user_input(gdf.crs) != CRS.from_user_input(expected):
        raise CRSError(
            f"{where}: CRS is {gdf.crs.to_string()}, expected {CRS(expected).to_string()}"
        )


def warn(message: str) -> None:
    """Emit a :class:`DataWarning` pointing at the caller's caller."""
    warnings.warn(message, DataWarning, stacklevel=3)
