"""The package's errors and warnings, in one place.

Every error inherits :class:`AccessibilityError` and the matching builtin, so callers may
catch either (``except ValueError`` or ``except AccessibilityError``).
"""

from __future__ import annotations


class AccessibilityError(Exception):
    """Base class of every error raised by this package."""


class DataError(ValueError, AccessibilityError):
    """An input file or table does not have the expected content."""


class MissingColumnError(KeyError, DataError):
    """A required column is missing from an input table."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ParameterError(DataError):
    """A parameter file (TOML) breaks its schema: the message names file, key and expectation."""


class CRSError(DataError):
    """An input has no coordinate reference system, or not the expected one."""


class DuplicateIdError(DataError):
    """An id column that must be unique has duplicates."""


class TerritoryError(DataError):
    """A territory file is invalid (unknown code, empty territory, bad field)."""


class ScenarioError(DataError):
    """A scenario file is invalid, or one of its edits matches nothing."""


class SourceError(AccessibilityError, OSError):
    """An upstream file cannot be fetched, or is missing from the mirror."""


class ChecksumError(SourceError):
    """A fetched or mirrored file does not have its catalogued sha256."""


class CorruptFileError(DataError):
    """A file has the right name but cannot be read (truncated archive, bad format)."""


class NetworkError(DataError):
    """A road network cannot be built or used (no drivable road, bad speeds, ...)."""


class OutputError(AccessibilityError, OSError):
    """An output folder cannot be written, or must not be replaced (not ours)."""


class AccessibilityWarning(UserWarning):
    """Base class of this package's warnings: legal but suspicious input."""


class DataWarning(AccessibilityWarning):
    """Input that is usable but suspicious (a town hall outside its commune, ...)."""


class SnapWarning(AccessibilityWarning):
    """A point lies far from the road network; it is kept, with its snap distance."""


class NetworkWarning(AccessibilityWarning):
    """A road network has parts cut off from its largest component, or odd values."""


class CacheWarning(AccessibilityWarning):
    """A cache entry cannot be read (truncated, half-deleted): it is rebuilt."""
