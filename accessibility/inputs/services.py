"""The services inventory: every service of each category in and around a territory.

Categories are data (``data/services/categories.toml``, read by :func:`load_categories`).
Each upstream source has a reader that turns its file into a tidy table of candidate
services (EPSG:4326 points, or commune-level counts for the INSEE BPE);
:func:`assemble_services` places them, assigns their current (COG 2026) commune and keeps
those within the buffer; :func:`build_services` fetches the sources and runs both.

Sources (through :func:`accessibility.inputs.sources.fetch`):

* ``services/liste-fs-20240801.csv``: France Services, August 2024 (ANCT).
* ``services/france_services_2020-10.geojson``: France Services, October 2020 (history).
* ``services/gisco_healthcare_FR.csv``: health establishments (GISCO, from FINESS 2020).
* ``services/laposte_poincont2_2016.csv``: La Poste contact points, 2016.
* ``services/bpe2013.xlsx``: INSEE BPE 2013 counts per commune (COG 2013), placed at
  the commune's town hall as INSEE's commune-level access-time method does.
* ``services/bpe18_enseignement.csv``: INSEE BPE 2018 education counts per IRIS.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from accessibility.core import columns as C
from accessibility.core.errors import CorruptFileError, DataError
from accessibility.core.paths import Paths, default_paths
from accessibility.core.validate import require_columns, require_crs, require_unique, warn
from accessibility.inputs.sources import fetch, load_catalogue

log = logging.getLogger(__name__)

CATEGORIES_FILE = Path("services") / "categories.toml"

FS_2024 = "services/liste-fs-20240801.csv"
FS_2020 = "services/france_services_2020-10.geojson"
GISCO = "services/gisco_healthcare_FR.csv"
LAPOSTE = "services/laposte_poincont2_2016.csv"
BPE_2013 = "services/bpe2013.xlsx"
BPE_2018_EDU = "services/bpe18_enseignement.csv"

GAMMES = ("proximite", "intermediaire", "superieure")
#: Optional reader column: the postcode (its département checks located-only services).
EXPECTED_DEP = "postcode"

#: Output columns of :func:`build_services`, in order (geometry last).
SERVICE_COLUMNS = [
    C.SERVICE_ID,
    C.CATEGORY,
    C.LABEL,
    C.OPERATOR,
    C.SOURCE,
    C.VINTAGE,
    C.COMMUNE_CODE,
    C.COUNT,
    C.ADDRESS,
    C.HOURS,
    C.SITE_TYPE,
    C.SERVICE_FORMAT,
    C.LOCATION,
    C.COMMUNE_SOURCE,
    C.IN_TERRITORY,
]

# Plausible extent of France (lon_min, lat_min, lon_max, lat_max): metropolitan France and
# Corsica, then the overseas départements and collectivities that French lists carry.
FRANCE_BOXES = (
    (-5.8, 41.2, 10.0, 51.5),  # metropolitan France, Corsica
    (-63.2, 14.3, -60.7, 18.2),  # Guadeloupe, Martinique, Saint-Martin, Saint-Barthélemy
    (-54.7, 2.0, -51.5, 6.0),  # Guyane
    (55.1, -21.5, 56.0, -20.8),  # La Réunion
    (44.9, -13.1, 45.4, -12.5),  # Mayotte
    (-56.5, 46.7, -56.0, 47.2),  # Saint-Pierre-et-Miquelon
)


# --- categories ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BpeEquipment:
    """One INSEE BPE equipment type: its TYPEQU code and its label (column of the 2013 file)."""

    typequ: str
    label: str = ""


@dataclass(frozen=True)
class Category:
    """A service category of ``categories.toml``."""

    key: str
    label: str
    sources: tuple[str, ...]
    threshold_min: float
    threshold_policy: str
    gamme: str | None = None
    description: str = ""
    history: bool = False
    bpe_equipment: tuple[BpeEquipment, ...] = ()
    gisco_facility_types: tuple[str, ...] = ()
    laposte_site_types: tuple[str, ...] = ()
    name_exclude: str | None = None


_REQUIRED = ("label", "sources", "threshold_min", "threshold_policy")
_OPTIONAL = (
    "gamme",
    "description",
    "history",
    "bpe_equipment",
    "gisco_facility_types",
    "laposte_site_types",
    "name_exclude",
)


def _bpe_items(raw: Any, where: str, *, need_label: bool) -> tuple[BpeEquipment, ...]:
    if not isinstance(raw, list) or not raw:
        raise DataError(f"{where}: bpe_equipment must be a non-empty list of {{typequ, label}}")
    items = []
    for item in raw:
        if not isinstance(item, dict) or set(item) - {"typequ", "label"}:
            raise DataError(
                f"{where}: bpe_equipment entries are {{typequ = ..., label = ...}}, got {item!r}"
            )
        code = item.get("typequ")
        if not isinstance(code, str) or not re.fullmatch(r"[A-G]\d{3}", code):
            raise DataError(f"{where}: bpe_equipment typequ must look like 'D201', got {code!r}")
        label = item.get("label", "")
        if need_label and (not isinstance(label, str) or not label):
            raise DataError(
                f"{where}: bpe_equipment {code} needs the label of its {BPE_2013} column"
            )
        items.append(BpeEquipment(code, label))
    return tuple(items)


def _str_list(raw: Any, where: str, field: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(v, str) and v for v in raw):
        raise DataError(f"{where}: {field} must be a list of non-empty strings")
    return tuple(raw)


def _category(key: str, raw: Any, file: Path) -> Category:
    where = f"{file}: [category.{key}]"
    if not isinstance(raw, dict):
        raise DataError(f"{where} must be a table")
    unknown = set(raw) - {*_REQUIRED, *_OPTIONAL}
    if unknown:
        raise DataError(
            f"{where}: unknown field(s) {', '.join(sorted(unknown))}; expected "
            f"{', '.join((*_REQUIRED, *_OPTIONAL))}"
        )
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        raise DataError(f"{where}: missing field(s) {', '.join(missing)}")
    for field in ("label", "threshold_policy"):
        if not isinstance(raw[field], str) or not raw[field].strip():
            raise DataError(f"{where}: {field} must be a non-empty string")
    threshold = raw["threshold_min"]
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or threshold <= 0:
        raise DataError(
            f"{where}: threshold_min must be a positive number of minutes, got {threshold!r}"
        )
    sources = _str_list(raw["sources"], where, "sources")
    if not sources:
        raise DataError(f"{where}: sources must name at least one catalogued file")
    bad = [s for s in sources if s not in READERS]
    if bad:
        raise DataError(
            f"{where}: no reader for source(s) {', '.join(bad)}; known: {', '.join(READERS)}"
        )
    gamme = raw.get("gamme")
    if gamme is not None and gamme not in GAMMES:
        raise DataError(f"{where}: gamme must be one of {', '.join(GAMMES)}, got {gamme!r}")
    bpe: tuple[BpeEquipment, ...] = ()
    if BPE_2013 in sources or BPE_2018_EDU in sources:
        bpe = _bpe_items(raw.get("bpe_equipment"), where, need_label=BPE_2013 in sources)
    elif "bpe_equipment" in raw:
        raise DataError(f"{where}: bpe_equipment is given but no BPE file is among sources")
    if GISCO in sources and not raw.get("gisco_facility_types"):
        raise DataError(f"{where}: a {GISCO} category needs gisco_facility_types")
    if LAPOSTE in sources and not raw.get("laposte_site_types"):
        raise DataError(f"{where}: a {LAPOSTE} category needs laposte_site_types")
    name_exclude = raw.get("name_exclude")
    if name_exclude is not None:
        try:
            re.compile(name_exclude)
        except (re.error, TypeError) as exc:
            raise DataError(f"{where}: name_exclude is not a regular expression ({exc})") from exc
    return Category(
        key=key,
        label=raw["label"].strip(),
        sources=sources,
        threshold_min=float(threshold),
        threshold_policy=" ".join(raw["threshold_policy"].split()),
        gamme=gamme,
        description=str(raw.get("description", "")),
        history=bool(raw.get("history", False)),
        bpe_equipment=bpe,
        gisco_facility_types=_str_list(
            raw.get("gisco_facility_types", []), where, "gisco_facility_types"
        ),
        laposte_site_types=_str_list(
            raw.get("laposte_site_types", []), where, "laposte_site_types"
        ),
        name_exclude=name_exclude,
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise DataError(f"service categories file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{path}: not valid TOML ({exc})") from exc


def load_categories(path: Path | str | None = None) -> dict[str, Category]:
    """Read and check the service categories file.

    Parameters
    ----------
    path
        A categories TOML file; ``data/services/categories.toml`` by default.

    Returns
    -------
    dict
        ``key -> Category``, in file order.

    Raises
    ------
    DataError
        Unknown fields, a missing label, a non-positive threshold, an unknown source...:
        the message names the file and the category.
    """
    file = Path(path) if path is not None else default_paths().data / CATEGORIES_FILE
    raw = _read_toml(file)
    unknown = set(raw) - {"meta", "category"}
    if unknown:
        raise DataError(f"{file}: unknown top-level table(s) {', '.join(sorted(unknown))}")
    cats = raw.get("category")
    if not isinstance(cats, dict) or not cats:
        raise DataError(f"{file}: no [category.KEY] table")
    out = {}
    for key, entry in cats.items():
        if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
            raise DataError(f"{file}: category key {key!r} must be lower_snake_case")
        out[key] = _category(key, entry, file)
    return out


# --- readers: one upstream file -> candidate services ---------------------------------------
#
# A reader returns a DataFrame with the output columns except ``in_territory`` and with
# ``lon``/``lat`` (EPSG:4326, NaN when missing) for point sources, or with ``commune_code``
# as published (any COG vintage) and ``location = "town_hall"`` for commune counts.


def _coords(df: pd.DataFrame, lon: str, lat: str, ids: pd.Series, where: str) -> pd.DataFrame:
    """Parse coordinates; warn about missing/invalid ones and points outside France."""
    x = pd.to_numeric(df[lon].astype(str).str.replace(",", ".", regex=False), errors="coerce")
    y = pd.to_numeric(df[lat].astype(str).str.replace(",", ".", regex=False), errors="coerce")
    bad = x.isna() | y.isna() | ~x.between(-180, 180) | ~y.between(-90, 90)
    if bad.any():
        sample = ", ".join(map(str, ids[bad].head(10)))
        warn(
            f"{where}: {int(bad.sum())} row(s) have missing or invalid coordinates "
            f"({lon}, {lat}); they are placed at their commune's town hall when it is "
            f"known, else left out: {sample}"
        )
        x[bad] = np.nan
        y[bad] = np.nan
    inside = np.zeros(len(df), dtype=bool)
    for x0, y0, x1, y1 in FRANCE_BOXES:
        inside |= (x.between(x0, x1) & y.between(y0, y1)).to_numpy()
    far = ~inside & ~bad.to_numpy()
    if far.any():
        sample = ", ".join(map(str, ids[far].head(10)))
        warn(
            f"{where}: {int(far.sum())} row(s) lie outside France's plausible extent "
            f"(swapped or wrong coordinates?): {sample}"
        )
    return pd.DataFrame({"lon": x.to_numpy(), "lat": y.to_numpy()}, index=df.index)


def _text(series: pd.Series) -> pd.Series:
    return series.fillna("").astype(str).str.strip()


def _join(*parts: pd.Series, sep: str = " ") -> pd.Series:
    """Join the non-empty texts of each row with ``sep`` (vectorised)."""
    out = _text(parts[0])
    for part in parts[1:]:
        text = _text(part)
        glue = np.where((out != "") & (text != ""), sep, "")
        out = out + glue + text
    return out


def _frame(
    *,
    ids: pd.Series,
    category: Category,
    source: str,
    vintage: str,
    operator: pd.Series | str,
    commune_code: pd.Series,
    address: pd.Series | str = "",
    hours: pd.Series | str = "",
    site_type: pd.Series | str = "",
    service_format: pd.Series | str = "",
    coords: pd.DataFrame | None = None,
    count: pd.Series | int = 1,
) -> pd.DataFrame:
    index = ids.index
    out = pd.DataFrame(
        {
            C.SERVICE_ID: f"{category.key}/" + ids.astype(str),
            C.CATEGORY: category.key,
            C.LABEL: category.label,
            C.OPERATOR: operator,
            C.SOURCE: source,
            C.VINTAGE: vintage,
            C.COMMUNE_CODE: commune_code,
            C.COUNT: count,
            C.ADDRESS: address,
            C.HOURS: hours,
            C.SITE_TYPE: site_type,
            C.SERVICE_FORMAT: service_format,
            C.LOCATION: "source" if coords is not None else "town_hall",
            C.COMMUNE_SOURCE: "source",
        },
        index=index,
    )
    out["lon"] = coords["lon"] if coords is not None else np.nan
    out["lat"] = coords["lat"] if coords is not None else np.nan
    return out.reset_index(drop=True)


def _insee(series: pd.Series) -> pd.Series:
    s = _text(series)
    return s.where(~s.str.fullmatch(r"\d{4}"), "0" + s)  # "1001" read as a number


def _read_csv(path: Path, **kwargs: Any) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], **kwargs)
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise CorruptFileError(f"{path}: cannot be read as CSV ({exc})") from exc


_DAYS = (
    ("h_lundi", "lun"),
    ("h_mardi", "mar"),
    ("h_mercredi", "mer"),
    ("h_jeudi", "jeu"),
    ("h_vendredi", "ven"),
    ("h_samedi", "sam"),
)


def _hours(df: pd.DataFrame) -> pd.Series:
    parts = [
        df[col]
        .fillna("")
        .astype(str)
        .str.strip()
        .map(lambda v, d=day: f"{d} {v}" if v and v != "-" else "")
        for col, day in _DAYS
        if col in df.columns
    ]
    if not parts:
        return pd.Series("", index=df.index)
    return _join(*parts, sep="; ")


def read_france_services_2024(
    path: Path, category: Category, *, source: str = FS_2024, vintage: str = "2024-08"
) -> pd.DataFrame:
    """France Services of the ANCT list (``liste-fs-20240801.csv`` format)."""
    where = f"{source} ({path})"
    df = _read_csv(path)
    require_columns(
        df,
        [
            "id_fs",
            "lib_fs",
            "adresse",
            "code_postal",
            "lib_com",
            "insee_com",
            "latitude",
            "longitude",
            "type_fs",
            "format_fs",
            "groupe_fs",
        ],
        where=where,
    )
    require_unique(df, "id_fs", where=where)
    ids = "fs:" + _text(df["id_fs"])
    name = _text(df["lib_fs"])
    group = _text(df["groupe_fs"])
    operator = np.where(
        name.str.contains("La Poste", case=False),
        "La Poste",
        np.where(group != "", "groupe " + group, "France Services (ANCT list)"),
    )
    return _frame(
        ids=ids,
        category=category,
        source=source,
        vintage=vintage,
        operator=pd.Series(operator, index=df.index),
        commune_code=_insee(df["insee_com"]),
        address=_join(df["adresse"], df["code_postal"], df["lib_com"]),
        hours=_hours(df),
        site_type=_text(df["type_fs"]),
        service_format=_text(df["format_fs"]),
        coords=_coords(df, "longitude", "latitude", ids, where),
    )


def read_france_services_2020(
    path: Path, category: Category, *, source: str = FS_2020, vintage: str = "2020-10"
) -> pd.DataFrame:
    """France Services labelled by October 2020 (ANCT GeoJSON)."""
    where = f"{source} ({path})"
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises its own error family
        raise CorruptFileError(f"{where}: cannot be read as a vector file ({exc})") from exc
    require_columns(
        gdf, ["MATRICULE", "lib_france_services", "ADRESSE", "insee_com", "categorie"], where=where
    )
    df = pd.DataFrame(gdf.drop(columns="geometry"))
    df["MATRICULE"] = _text(df["MATRICULE"])
    require_unique(df, "MATRICULE", where=where)
    ids = "fs2020:" + df["MATRICULE"]
    geom = gdf.geometry
    df["lon"] = [g.x if g is not None and not g.is_empty else np.nan for g in geom]
    df["lat"] = [g.y if g is not None and not g.is_empty else np.nan for g in geom]
    return _frame(
        ids=ids,
        category=category,
        source=source,
        vintage=vintage,
        operator="France Services (ANCT list)",
        commune_code=_insee(df["insee_com"]),
        address=_text(df["ADRESSE"]),
        hours=_hours(df),
        site_type=_text(df["categorie"]),
        service_format=_text(df.get("FORMAT_FS", pd.Series("", index=df.index))),
        coords=_coords(df, "lon", "lat", ids, where),
    )


def read_gisco(
    path: Path, category: Category, *, source: str = GISCO, vintage: str = "2020-03"
) -> pd.DataFrame:
    """GISCO health establishments of the category's facility types (no INSEE code)."""
    where = f"{source} ({path})"
    df = _read_csv(path)
    require_columns(
        df,
        [
            "id",
            "hospital_name",
            "lat",
            "lon",
            "street",
            "house_number",
            "postcode",
            "city",
            "facility_type",
            "public_private",
        ],
        where=where,
    )
    require_unique(df, "id", where=where)
    keep = df["facility_type"].isin(category.gisco_facility_types)
    if category.name_exclude:
        keep &= ~_text(df["hospital_name"]).str.contains(category.name_exclude, regex=True)
    df = df[keep]
    ids = "gisco:" + _text(df["id"])
    status = _text(df["public_private"]).replace("", "unknown status")
    return _frame(
        ids=ids,
        category=category,
        source=source,
        vintage=vintage,
        operator=status + " (" + _text(df["hospital_name"]) + ")",
        commune_code=pd.Series(pd.NA, index=df.index, dtype="object"),
        address=_join(df["house_number"], df["street"], df["postcode"], df["city"]),
        site_type=_text(df["facility_type"]),
        coords=_coords(df, "lon", "lat", ids, where),
    ).assign(**{EXPECTED_DEP: _text(df["postcode"]).str.zfill(5).to_numpy()})


_LAPOSTE_OPERATOR = {
    "Bureau de Poste": "La Poste",
    "Agence postale communale": "commune (La Poste partner)",
    "Agence postale intercommunale": "intercommunalité (La Poste partner)",
    "Relais poste commerçant": "shopkeeper (La Poste partner)",
}


def read_laposte(
    path: Path, category: Category, *, source: str = LAPOSTE, vintage: str = "2016"
) -> pd.DataFrame:
    """La Poste contact points (``;``-separated, UTF-8) of the category's site types."""
    where = f"{source} ({path})"
    df = _read_csv(path, sep=";", encoding="utf-8")
    require_columns(
        df,
        [
            "#Identifiant_du_site",
            "Libellé_du_site",
            "Caractéristique_du_site",
            "Adresse",
            "Code_postal",
            "Localité",
            "Code_INSEE",
            "Latitude",
            "Longitude",
        ],
        where=where,
    )
    require_unique(df, "#Identifiant_du_site", where=where)
    df = df[df["Caractéristique_du_site"].isin(category.laposte_site_types)]
    ids = "laposte:" + _text(df["#Identifiant_du_site"])
    kind = _text(df["Caractéristique_du_site"])
    return _frame(
        ids=ids,
        category=category,
        source=source,
        vintage=vintage,
        operator=kind.map(_LAPOSTE_OPERATOR).fillna("La Poste"),
        commune_code=_insee(df["Code_INSEE"]),
        address=_join(df["Adresse"], df["Code_postal"], df["Localité"]),
        site_type=kind,
        coords=_coords(df, "Longitude", "Latitude", ids, where),
    )


def read_bpe2013(
    path: Path, category: Category, *, source: str = BPE_2013, vintage: str = "2013"
) -> pd.DataFrame:
    """BPE 2013 counts per commune (COG 2013 codes) of the category's equipment types."""
    where = f"{source} ({path})"
    table = _read_bpe2013_table(path)
    labels = [e.label for e in category.bpe_equipment]
    require_columns(table, ["depcom", *labels], where=where)
    counts = table[labels].apply(pd.to_numeric, errors="coerce").fillna(0).sum(axis=1)
    df = pd.DataFrame({"depcom": table["depcom"].astype(str).str.zfill(5), "n": counts})
    df = df[df["n"] > 0]
    codes = " + ".join(e.typequ for e in category.bpe_equipment)
    return _frame(
        ids="bpe13:" + df["depcom"],
        category=category,
        source=source,
        vintage=vintage,
        operator=f"INSEE BPE 2013 ({codes})",
        commune_code=df["depcom"],
        site_type=codes,
        count=df["n"].round().astype(int),
    )


_BPE13_CACHE: dict[Path, pd.DataFrame] = {}


def _bpe_code(value: Any) -> str:
    """A commune code cell: text, or a number when the workbook stored it as one."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip().zfill(5)


def _read_bpe2013_table(path: Path) -> pd.DataFrame:
    # the workbook is read once per run: one sheet, 35,000 rows x 182 columns
    key = path.resolve()
    if key not in _BPE13_CACHE:
        # python-calamine directly: pandas' per-cell conversion of its output takes ~30 s
        # on this sheet, the raw rows take ~1.5 s
        from python_calamine import CalamineWorkbook

        try:
            rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
        except Exception as exc:  # calamine raises its own error types
            raise CorruptFileError(f"{path}: cannot be read as an xlsx workbook ({exc})") from exc
        if not rows:
            raise CorruptFileError(f"{path}: the first sheet is empty")
        header = [str(h).strip() for h in rows[0]]
        table = pd.DataFrame(rows[1:], columns=header)
        if "depcom" in table.columns:
            table["depcom"] = table["depcom"].map(_bpe_code)
        _BPE13_CACHE.clear()
        _BPE13_CACHE[key] = table
    return _BPE13_CACHE[key]


def read_bpe2018_education(
    path: Path, category: Category, *, source: str = BPE_2018_EDU, vintage: str = "2018"
) -> pd.DataFrame:
    """BPE 2018 education counts (per IRIS and attributes), summed per commune."""
    where = f"{source} ({path})"
    df = _read_csv(path, sep=";")
    require_columns(df, ["DEPCOM", "TYPEQU", "NB_EQUIP"], where=where)
    codes = [e.typequ for e in category.bpe_equipment]
    df = df[df["TYPEQU"].isin(codes)].copy()
    df["n"] = pd.to_numeric(df["NB_EQUIP"], errors="coerce")
    if df["n"].isna().any():
        raise DataError(
            f"{where}: NB_EQUIP must be a number; {int(df['n'].isna().sum())} row(s) are not"
        )
    per = df.groupby(_text(df["DEPCOM"]).str.zfill(5))["n"].sum()
    per = per[per > 0]
    ids = pd.Series(per.index, index=per.index)
    return _frame(
        ids="bpe18:" + ids,
        category=category,
        source=source,
        vintage=vintage,
        operator=f"INSEE BPE 2018 ({' + '.join(codes)})",
        commune_code=ids,
        site_type=" + ".join(codes),
        count=per.round().astype(int),
    )


Reader = Callable[..., pd.DataFrame]
READERS: Mapping[str, Reader] = MappingProxyType(
    {
        FS_2024: read_france_services_2024,
        FS_2020: read_france_services_2020,
        GISCO: read_gisco,
        LAPOSTE: read_laposte,
        BPE_2013: read_bpe2013,
        BPE_2018_EDU: read_bpe2018_education,
    }
)


# --- assembly ----------------------------------------------------------------------------


def assemble_services(
    candidates: pd.DataFrame,
    communes: gpd.GeoDataFrame,
    *,
    buffer_m: float,
    code_map: Mapping[str, str],
    town_halls: gpd.GeoDataFrame,
    where: str = "services",
) -> gpd.GeoDataFrame:
    """Place candidate services, give them a current commune, keep those near the territory.

    Parameters
    ----------
    candidates
        Rows from the readers (output columns but ``in_territory``, with ``lon``/``lat``).
    communes
        The territory's communes: ``commune_code`` (COG 2026) and polygons, metric CRS.
    buffer_m
        Services this far (metres) outside the territory are kept, ``in_territory=False``.
    code_map
        Any INSEE code since 2013 -> current code
        (:func:`accessibility.inputs.communes.current_code_map`).
    town_halls
        ``commune_code`` (current) and town-hall points (any CRS), for the commune-level
        counts and the services whose source has no usable coordinates.

    Returns
    -------
    GeoDataFrame
        :data:`SERVICE_COLUMNS` and point geometry in the communes' CRS, sorted by
        category and service_id. Commune-level counts of merged communes are summed.
    """
    require_columns(communes, [C.COMMUNE_CODE, "geometry"], where="communes")
    require_crs(communes, where="communes")
    if communes.crs.is_geographic:
        raise DataError(f"communes: a metric CRS is expected (e.g. EPSG:2154), got {communes.crs}")
    if buffer_m < 0:
        raise DataError(f"buffer_m must be >= 0, got {buffer_m}")
    require_columns(town_halls, [C.COMMUNE_CODE, "geometry"], where="town halls")
    crs = communes.crs
    territory_codes = set(communes[C.COMMUNE_CODE])
    territory = shapely.union_all(communes.geometry.values)
    zone = territory.buffer(buffer_m) if buffer_m > 0 else territory
    halls = town_halls[[C.COMMUNE_CODE, "geometry"]].to_crs(crs).drop_duplicates(C.COMMUNE_CODE)
    hall_at = halls.set_index(C.COMMUNE_CODE).geometry

    df = candidates.copy()
    # 1. current commune codes for the codes the sources give
    given = df[C.COMMUNE_CODE].notna() & (df[C.COMMUNE_CODE].astype(str) != "")
    mapped = df.loc[given, C.COMMUNE_CODE].astype(str).map(code_map)
    unknown = mapped.isna()
    # rows far from the territory are not the user's concern: their data-quality notes
    # go to the log; those of the territory's départements are warnings
    deps = {str(c)[:2] for c in territory_codes}
    if unknown.any():
        bad = df.loc[mapped.index[unknown]]
        near = bad[C.COMMUNE_CODE].astype(str).str[:2].isin(deps)
        if not near.any():
            log.info(
                "%s: %d row(s) far from the territory have unknown INSEE codes: %s",
                where,
                len(bad),
                ", ".join(bad[C.COMMUNE_CODE].astype(str).head(10)),
            )
        bad = bad[near]
    if unknown.any() and len(bad):
        sample = ", ".join(
            f"{i} ({c})"
            for i, c in zip(bad[C.SERVICE_ID].head(10), bad[C.COMMUNE_CODE].head(10), strict=True)
        )
        warn(
            f"{where}: {int(unknown.sum())} row(s) have INSEE commune codes unknown since 2013: "
            f"{sample}; commune-level counts among them are left out, points get the "
            "commune of their location"
        )
    df[C.COMMUNE_CODE] = df[C.COMMUNE_CODE].astype("object")
    df.loc[given, C.COMMUNE_CODE] = mapped
    df.loc[~given, C.COMMUNE_CODE] = None
    at_hall = df[C.LOCATION] == "town_hall"
    df = df[~(at_hall & df[C.COMMUNE_CODE].isna())]

    # 2. commune-level counts: sum merged communes, then place at the town hall
    counts = df[df[C.LOCATION] == "town_hall"]
    if len(counts):
        keys = [C.CATEGORY, C.COMMUNE_CODE]
        firsts = counts.groupby(keys, as_index=False).first()
        sums = counts.groupby(keys, as_index=False)[C.COUNT].sum()
        counts = firsts.drop(columns=C.COUNT).merge(sums, on=keys)
        prefix = counts[C.SERVICE_ID].str.rsplit(":", n=1).str[0]
        counts[C.SERVICE_ID] = prefix + ":" + counts[C.COMMUNE_CODE]
    points = df[df[C.LOCATION] == "source"].copy()
    no_xy = points["lon"].isna() | points["lat"].isna()
    fallback = no_xy & points[C.COMMUNE_CODE].isin(hall_at.index)
    points.loc[fallback, C.LOCATION] = "town_hall"
    points = points[~no_xy | fallback]
    geoms = gpd.GeoSeries(
        gpd.points_from_xy(points["lon"], points["lat"]), index=points.index, crs="EPSG:4326"
    ).to_crs(crs)
    geoms[fallback[~no_xy | fallback]] = points.loc[fallback, C.COMMUNE_CODE].map(hall_at)
    counts_geom = gpd.GeoSeries(
        counts[C.COMMUNE_CODE].map(hall_at).values, index=counts.index, crs=crs
    )
    no_hall = counts_geom.isna()
    if no_hall.any():
        # a territory commune absent from the town-hall table: a point inside its polygon
        inner = communes.set_index(C.COMMUNE_CODE).geometry.representative_point()
        counts_geom[no_hall] = counts.loc[no_hall, C.COMMUNE_CODE].map(inner)
        still = counts_geom.isna()
        if still.any() and not counts.loc[still, C.COMMUNE_CODE].str[:2].isin(deps).any():
            log.info(
                "%s: no town hall for commune(s) %s (far from the territory)",
                where,
                ", ".join(sorted(set(counts.loc[still, C.COMMUNE_CODE]))[:10]),
            )
        elif still.any():
            warn(
                f"{where}: no town hall for commune(s) "
                f"{', '.join(sorted(set(counts.loc[still, C.COMMUNE_CODE]))[:10])}; their "
                "commune-level counts are left out"
            )
        if still.any():
            counts, counts_geom = counts[~still], counts_geom[~still]
    frames = [
        gpd.GeoDataFrame(points.drop(columns=["lon", "lat"]), geometry=geoms, crs=crs),
        gpd.GeoDataFrame(counts.drop(columns=["lon", "lat"]), geometry=counts_geom, crs=crs),
    ]
    out = (
        pd.concat([f for f in frames if len(f)], ignore_index=True)
        if any(len(f) for f in frames)
        else frames[0].iloc[0:0]
    )
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=crs)

    # 3. keep what is in the territory (by commune) or within the buffer (by location)
    in_terr_code = out[C.COMMUNE_CODE].isin(territory_codes)
    in_zone = shapely.within(out.geometry.values, zone) | shapely.intersects(
        out.geometry.values, zone
    )
    out = out[in_terr_code.to_numpy() | in_zone].copy()

    # 4. services without a code: the territory commune that contains them, else the
    #    nearest town hall (an approximation near commune borders)
    missing = out[C.COMMUNE_CODE].isna()
    if missing.any():
        sub = out[missing]
        joined = gpd.sjoin(
            sub[["geometry"]],
            communes[[C.COMMUNE_CODE, "geometry"]],
            how="left",
            predicate="within",
        )
        joined = joined[~joined.index.duplicated()]
        inside = joined[C.COMMUNE_CODE].notna()
        out.loc[joined.index[inside], C.COMMUNE_CODE] = joined.loc[inside, C.COMMUNE_CODE]
        out.loc[joined.index[inside], C.COMMUNE_SOURCE] = "polygon"
        rest = joined.index[~inside]
        if len(rest):
            # town halls near the zone only (overseas ones have no Lambert-93 position)
            near = halls[halls.intersects(zone.buffer(50_000.0))]
            tree = cKDTree(np.column_stack([near.geometry.x, near.geometry.y]))
            pts = out.loc[rest].geometry
            _, nearest = tree.query(np.column_stack([pts.x, pts.y]))
            out.loc[rest, C.COMMUNE_CODE] = near[C.COMMUNE_CODE].to_numpy()[nearest]
            out.loc[rest, C.COMMUNE_SOURCE] = "nearest_town_hall"

        out = _drop_far_from_postcode(out, halls, where)

    out[C.IN_TERRITORY] = out[C.COMMUNE_CODE].isin(territory_codes)
    # a service placed in the territory by its commune code but located far outside it
    far = out[C.IN_TERRITORY].to_numpy() & ~shapely.intersects(
        out.geometry.values, territory.buffer(2000.0)
    )
    if far.any():
        warn(
            f"{where}: {int(far.sum())} service(s) have a territory commune code but lie more "
            f"than 2 km outside the territory: {', '.join(out.loc[far, C.SERVICE_ID].head(10))}"
        )
    require_unique(out, C.SERVICE_ID, where=where)
    out[C.COUNT] = out[C.COUNT].astype(int)
    out = out.sort_values([C.CATEGORY, C.SERVICE_ID]).reset_index(drop=True)
    return gpd.GeoDataFrame(out[[*SERVICE_COLUMNS, "geometry"]], geometry="geometry", crs=crs)


def _departement(code: str) -> str:
    """Département of a commune code or postcode; Corsica is "20" (its postcodes are 20xxx)."""
    code = str(code)
    if code.startswith("97"):
        return code[:3]
    return "20" if code[:2] in ("2A", "2B") else code[:2]


def _drop_far_from_postcode(
    out: gpd.GeoDataFrame, halls: gpd.GeoDataFrame, where: str
) -> gpd.GeoDataFrame:
    """Leave out services more than 20 km from every town hall of their postcode's département.

    Sources without an INSEE code (GISCO) give a postcode: a point far from its postcode's
    département is a geocoding error (e.g. a Tende (06) hospital placed near Chambéry).
    """
    if EXPECTED_DEP not in out.columns:
        return out
    check = (out[C.COMMUNE_SOURCE] != "source") & out[EXPECTED_DEP].fillna("").astype(
        str
    ).str.len().gt(0)
    if not check.any():
        return out
    finite = np.isfinite(halls.geometry.x) & np.isfinite(halls.geometry.y)
    halls = halls[finite]
    hall_dep = halls[C.COMMUNE_CODE].map(_departement)
    bad_idx = []
    for dep, rows in out[check].groupby(out.loc[check, EXPECTED_DEP].map(_departement)):
        mine = halls[hall_dep == dep]
        if mine.empty:
            bad_idx.extend(rows.index)
            continue
        tree = cKDTree(np.column_stack([mine.geometry.x, mine.geometry.y]))
        dist, _ = tree.query(np.column_stack([rows.geometry.x, rows.geometry.y]))
        bad_idx.extend(rows.index[dist > 20_000.0])
    if bad_idx:
        warn(
            f"{where}: {len(bad_idx)} service(s) lie more than 20 km from the département of "
            f"their postcode (geocoding errors?) and are left out: "
            f"{', '.join(out.loc[bad_idx, C.SERVICE_ID].head(10))}"
        )
        out = out.drop(index=bad_idx)
    return out


def build_services(
    communes: gpd.GeoDataFrame,
    *,
    buffer_m: float,
    paths: Paths | None = None,
    categories: Mapping[str, Category] | Iterable[str] | None = None,
) -> gpd.GeoDataFrame:
    """The services of every category in the territory and within ``buffer_m`` of it.

    Parameters
    ----------
    communes
        The territory's communes (metric CRS, ``commune_code`` COG 2026, polygons).
    buffer_m
        Services up to this distance outside the territory are kept (``in_territory``
        False): the nearest one of a border commune may lie outside.
    paths
        Folders to use (:func:`~accessibility.core.paths.default_paths` by default).
    categories
        Categories (as :func:`load_categories` returns), or keys of the shipped
        categories; all shipped categories by default.

    Returns
    -------
    GeoDataFrame
        Columns :data:`SERVICE_COLUMNS` (``service_id`` = ``category/source:upstream id``)
        and point geometry in the communes' CRS. See ``docs/services.md``.
    """
    from accessibility.inputs.communes import current_code_map, load_town_halls

    paths = paths or default_paths()
    cats = _resolve_categories(categories, paths)
    catalogue = load_catalogue(paths)
    frames = []
    for cat in cats.values():
        for source in cat.sources:
            vintage = catalogue[source].vintage if source in catalogue else ""
            log.debug("reading %s for %s", source, cat.key)
            frames.append(
                READERS[source](fetch(source, paths), cat, source=source, vintage=vintage)
            )
    candidates = pd.concat(frames, ignore_index=True)
    return assemble_services(
        candidates,
        communes,
        buffer_m=buffer_m,
        code_map=current_code_map(paths),
        town_halls=load_town_halls(paths),
    )


def _resolve_categories(
    categories: Mapping[str, Category] | Iterable[str] | None, paths: Paths
) -> dict[str, Category]:
    if isinstance(categories, Mapping):
        return dict(categories)
    shipped = load_categories(paths.data / CATEGORIES_FILE)
    if categories is None:
        return shipped
    keys = list(categories)
    bad = [k for k in keys if k not in shipped]
    if bad:
        raise DataError(
            f"unknown service categor{'y' if len(bad) == 1 else 'ies'} {', '.join(bad)}; "
            f"known: {', '.join(shipped)}"
        )
    return {k: shipped[k] for k in keys}


def summarise_services(services: pd.DataFrame) -> pd.DataFrame:
    """One row per category: rows and summed counts, in the territory and in the buffer.

    Columns: ``category``, ``label``, ``rows``, ``count``, ``count_in_territory``,
    ``count_in_buffer``, ``rows_in_territory``, ``source``, ``vintage``.
    """
    require_columns(
        services,
        [C.CATEGORY, C.LABEL, C.COUNT, C.IN_TERRITORY, C.SOURCE, C.VINTAGE],
        where="services",
    )
    df = pd.DataFrame(services.drop(columns="geometry", errors="ignore"))
    inside = df[C.IN_TERRITORY].astype(bool)
    df["_in"] = df[C.COUNT].where(inside, 0)
    df["_out"] = df[C.COUNT].where(~inside, 0)
    df["_rows_in"] = inside.astype(int)
    summary = df.groupby(C.CATEGORY, sort=True).agg(
        label=(C.LABEL, "first"),
        rows=(C.COUNT, "size"),
        count=(C.COUNT, "sum"),
        count_in_territory=("_in", "sum"),
        count_in_buffer=("_out", "sum"),
        rows_in_territory=("_rows_in", "sum"),
        source=(C.SOURCE, lambda s: ", ".join(sorted(set(s)))),
        vintage=(C.VINTAGE, lambda s: ", ".join(sorted(set(s)))),
    )
    return summary.reset_index()
