"""Supply against demand: distance-decay functions, 2SFCA, E2SFCA and the DREES APL.

Every indicator here is a *floating catchment area* measure computed from three tables:

* a long travel-time table with columns ``origin_id``, ``destination_id``,
  ``travel_time_min`` (NaN = unreachable), as made by :mod:`accessibility.engine.travel_times`,
  or the reachable pairs only, by position (:class:`~accessibility.engine.matrix.SparseTimes`,
  from :func:`~accessibility.engine.travel_times.od_pairs`: for large territories);
* the demand: a :class:`pandas.Series` of population indexed by origin id;
* the supply: a :class:`pandas.Series` of capacity indexed by destination (site) id.

With a decay ``w(t)`` (weight of a trip of ``t`` minutes, in [0, 1]) the two steps are

1. for each site *j*: ``R_j = S_j / sum_k w(t_kj) P_k`` (supply per weighted inhabitant);
2. for each origin *i*: ``A_i = sum_j w(t_ij) R_j``.

The plain 2SFCA (Luo & Wang 2003) uses a step decay, the E2SFCA (Luo & Qi 2009) banded
weights, the DREES APL its own bands and an age-standardised demand. The same weight is
applied in both steps, so that the supply of every site that someone reaches is shared
out exactly: ``sum_i P_i A_i = sum_j S_j`` over those sites. Parameters and their
sources are in ``data/indicators/catchment.toml``; see ``docs/supply-indicators.md``.
The decay functions live in :mod:`accessibility.indicators.decay` (re-exported here).

Memory: both steps run over the pairs in chunks of :data:`CHUNK_PAIRS`, so besides the
pairs themselves (and, for a long table, their id lookups) only a chunk's weights are
held. Given :class:`~accessibility.engine.matrix.SparseTimes`, ids are looked up once
each rather than once per pair.

Conventions: a band is closed on the right (exactly 10 minutes falls in the band that
ends at 10); an origin that reaches no site has an access of 0, not NaN; a site that no
demand reaches has ``R_j = NaN``, gives nothing, and is reported with a
:class:`~accessibility.core.errors.DataWarning`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Annotated

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pydantic import AfterValidator, Field

from accessibility.core import columns as C
from accessibility.core import params
from accessibility.core.errors import DataError, DuplicateIdError
from accessibility.core.paths import project_data_dir
from accessibility.core.validate import require_columns, warn
from accessibility.engine.matrix import SparseTimes
from accessibility.indicators.decay import (  # noqa: F401  (re-exported: the 0.2 names)
    Decay,
    Gaussian,
    Power,
    Step,
    Stepwise,
    gaussian,
    power,
    step,
    stepwise,
)

CATCHMENT_FILE = Path("indicators") / "catchment.toml"

# --- parameters -----------------------------------------------------------------------


@dataclass(frozen=True)
class CatchmentParameters:
    """The figures of ``catchment.toml``, checked, with their sources."""

    two_step_threshold_min: float
    e2sfca_bands: Mapping[float, float]
    apl_bands: Mapping[float, float]
    apl_2012_bands: Mapping[float, float]
    underserved_below: float
    sources: Mapping[str, str]


_Minutes = Annotated[params.Num, Field(gt=0, le=240)]


class _Band(params.Schema):
    upper_min: _Minutes
    weight: Annotated[params.Num, Field(ge=0, le=1)]


def _check_bands(bands: tuple[_Band, ...]) -> tuple[_Band, ...]:
    stepwise({b.upper_min: b.weight for b in bands})  # its ValueError names the problem
    if len({b.upper_min for b in bands}) != len(bands):
        raise ValueError("band upper bounds must differ")
    return bands


_Bands = Annotated[tuple[_Band, ...], Field(min_length=1), AfterValidator(_check_bands)]


class _TwoStep(params.Schema):
    threshold_min: _Minutes
    source: params.Text = ""


class _Banded(params.Schema):
    bands: _Bands
    source: params.Text = ""


class _Apl(_Banded):
    #: consultations a year per standardised inhabitant (the legal threshold is 2.5)
    underserved_below: Annotated[params.Num, Field(gt=0, le=50)]
    underserved_unit: params.Text = ""
    underserved_source: params.Text = ""


class CatchmentSchema(params.Schema):
    """The keys of ``catchment.toml`` (times in minutes, 0 < t <= 240; weights in [0, 1])."""

    two_step_fca: _TwoStep
    enhanced_two_step_fca: _Banded
    apl: _Apl
    apl_2012: _Banded


def load_catchment_parameters(path: str | Path | None = None) -> CatchmentParameters:
    """Read and check the indicator parameters (default: ``data/indicators/catchment.toml``).

    Raises
    ------
    DataError
        On a missing or malformed file, naming the file and the field.
    """
    file = Path(path) if path is not None else project_data_dir() / CATCHMENT_FILE
    raw = params.load(file, CatchmentSchema, what="catchment parameter file")

    def bands(table: _Banded) -> Mapping[float, float]:
        return MappingProxyType({b.upper_min: b.weight for b in table.bands})

    sources = {
        "two_step_fca": raw.two_step_fca.source,
        "enhanced_two_step_fca": raw.enhanced_two_step_fca.source,
        "apl": raw.apl.source,
        "apl_underserved": raw.apl.underserved_source,
        "apl_2012": raw.apl_2012.source,
    }
    return CatchmentParameters(
        two_step_threshold_min=raw.two_step_fca.threshold_min,
        e2sfca_bands=bands(raw.enhanced_two_step_fca),
        apl_bands=bands(raw.apl),
        apl_2012_bands=bands(raw.apl_2012),
        underserved_below=raw.apl.underserved_below,
        sources=MappingProxyType(sources),
    )


def luo_qi_2009(parameters: CatchmentParameters | None = None) -> Stepwise:
    """The E2SFCA bands of Luo & Qi (2009): 1.00, 0.68, 0.22 for 0-10, 10-20, 20-30 min."""
    p = parameters or load_catchment_parameters()
    return stepwise(p.e2sfca_bands)


def drees_apl(parameters: CatchmentParameters | None = None) -> Stepwise:
    """The DREES APL decay (method of 2015 on): 1 to 10 min, 2/3 to 15, 1/3 to 20, then 0."""
    p = parameters or load_catchment_parameters()
    return stepwise(p.apl_bands)


def drees_apl_2012(parameters: CatchmentParameters | None = None) -> Stepwise:
    """The first APL decay (Barlet et al. 2012): 1 to 5 min, 0.3 to 10, 0.1 to 15, then 0."""
    p = parameters or load_catchment_parameters()
    return stepwise(p.apl_2012_bands)


# --- the floating catchment ------------------------------------------------------------


@dataclass(frozen=True)
class CatchmentResult:
    """What a floating-catchment indicator returns.

    Attributes
    ----------
    by_origin
        Indexed by origin id (every origin of the demand): ``population``, the demand
        used in step 1 when it differs (``standardised_population``), and the indicator
        (``accessibility`` or ``apl``). An origin that reaches no site has 0.
    by_site
        Indexed by site id (every site of the supply): ``supply``, ``weighted_demand``
        and ``supply_ratio`` (NaN when no demand is within reach).
    unreached_sites
        Ids of the sites with a positive supply that no demand reaches: their supply is
        allocated to nobody.
    """

    by_origin: pd.DataFrame
    by_site: pd.DataFrame
    unreached_sites: pd.Index


def _check_amounts(s: pd.Series, *, what: str, index_name: str) -> pd.Series:
    where = f"{what} (a Series indexed by {index_name})"
    if not isinstance(s, pd.Series):
        raise TypeError(f"{where}: expected a pandas Series, got {type(s).__name__}")
    if s.index.has_duplicates:
        dup = s.index[s.index.duplicated()].unique()
        raise DuplicateIdError(
            f"{where}: {len(dup)} id(s) appear more than once: " + ", ".join(map(str, dup[:10]))
        )
    if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        raise DataError(f"{where}: expected numbers, got dtype {s.dtype}")
    values = s.to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        raise DataError(
            f"{where}: values must be finite and >= 0; {int(bad.sum())} are not, e.g. "
            + ", ".join(f"{i}={v}" for i, v in s[bad].head(5).items())
        )
    return s.astype(np.float64)


def _codes(ids: pd.Series, index: pd.Index, *, what: str, table: str) -> NDArray[np.intp]:
    codes = index.get_indexer(ids)
    missing = codes < 0
    if missing.any():
        sample = ", ".join(map(str, pd.unique(ids[missing])[:10]))
        raise DataError(
            f"travel-time table: {int(missing.sum())} row(s) have a {what} that is not in "
            f"the {table} (ids: {sample}); travel-time ids have dtype {ids.dtype}, "
            f"{table} ids have dtype {index.dtype}"
        )
    return codes


def _times_and_codes(
    times: pd.DataFrame, demand: pd.Series, supply: pd.Series
) -> tuple[NDArray[np.float64], NDArray[np.intp], NDArray[np.intp]]:
    """The checked times (minutes, NaN = unreachable) and the origin and site positions
    of each row; unknown ids, negative times and duplicate pairs are errors."""
    where = "travel-time table"
    t = pd.to_numeric(times[C.TRAVEL_TIME_MIN], errors="coerce").to_numpy(dtype=np.float64)
    not_numbers = np.isnan(t) & times[C.TRAVEL_TIME_MIN].notna().to_numpy()
    if not_numbers.any():
        raise DataError(f"{where}: column {C.TRAVEL_TIME_MIN!r} holds non-numeric values")
    if (t < 0).any():
        raise DataError(
            f"{where}: column {C.TRAVEL_TIME_MIN!r} has {int((t < 0).sum())} negative "
            f"time(s), min {np.nanmin(t)}; expected minutes >= 0 or NaN (unreachable)"
        )

    o = _codes(times[C.ORIGIN_ID], demand.index, what="origin id", table="demand")
    d = _codes(times[C.DESTINATION_ID], supply.index, what="destination id", table="supply")
    # duplicate pairs, found on integer keys (hashing the id pairs is much slower)
    key = o.astype(np.int64) * len(supply) + d
    sorted_key = np.sort(key)
    if (sorted_key[1:] == sorted_key[:-1]).any():
        dup = pd.Series(key).duplicated().to_numpy()
        pairs = times.loc[dup, [C.ORIGIN_ID, C.DESTINATION_ID]].head(5)
        sample = ", ".join(f"{a}->{b}" for a, b in pairs.itertuples(index=False))
        raise DuplicateIdError(
            f"{where}: {int(dup.sum())} (origin_id, destination_id) pair(s) appear more "
            f"than once, e.g. {sample}"
        )
    return t, o, d


#: Pairs weighed at once: the two steps run over the travel-time pairs in chunks of this
#: many, so that their temporaries (about five float64 arrays of a chunk) stay near
#: 80 MB whatever the table's size. One chunk gives exactly the sums of one pass; more
#: add the chunks' sums (floating-point rounding of the order of 1e-16, relative).
CHUNK_PAIRS = 2_000_000


def _sparse_codes(
    times: SparseTimes, demand: pd.Series, supply: pd.Series
) -> tuple[NDArray[np.floating], NDArray[np.intp], NDArray[np.intp]]:
    """The times and the origin and site positions of each pair of a :class:`SparseTimes`
    (its ids looked up once each, not once per pair); an id of a pair missing from the
    demand or the supply is an error."""
    out = []
    for ids, pos, index, what, table in (
        (times.origin_ids, times.origin, demand.index, "origin id", "demand"),
        (times.destination_ids, times.destination, supply.index, "destination id", "supply"),
    ):
        code = index.get_indexer(ids)
        used = np.zeros(len(ids), dtype=bool)
        used[pos] = True
        missing = used & (code < 0)
        if missing.any():
            raise DataError(
                f"travel-time table: pairs have {int(missing.sum())} {what}(s) that are not "
                f"in the {table} (ids: {', '.join(map(str, ids[missing][:10]))})"
            )
        out.append(code[pos])
    return times.minutes, out[0], out[1]


def _weights(decay: Decay, t: NDArray[np.floating]) -> NDArray[np.float64]:
    w = np.asarray(decay(t), dtype=np.float64)
    if w.shape != t.shape:
        raise ValueError(f"decay {decay!r} returned shape {w.shape} for times of shape {t.shape}")
    w = np.where(np.isnan(t), 0.0, w)
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError(f"decay {decay!r} returned negative or non-finite weights")
    return w


def _chunks(n: int) -> list[slice]:
    return [slice(a, min(a + CHUNK_PAIRS, n)) for a in range(0, max(n, 1), CHUNK_PAIRS)]


def _two_steps(
    t: NDArray[np.floating],
    o: NDArray[np.intp],
    d: NDArray[np.intp],
    decay: Decay,
    pop: NDArray[np.float64],
    s: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Weighted demand and supply ratio per site, access per origin, over the pairs in
    chunks of :data:`CHUNK_PAIRS` (the weights are recomputed in step 2 rather than
    kept: a decay costs less than holding 8 bytes a pair)."""
    # weighted sums per site and per origin with np.bincount (a sparse matrix product in
    # effect): pandas groupby would do, at several times the cost on large tables
    weighted_demand = np.zeros(len(s))
    for c in _chunks(len(t)):
        w = _weights(decay, t[c])
        weighted_demand += np.bincount(d[c], weights=w * pop[o[c]], minlength=len(s))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(weighted_demand > 0, s / weighted_demand, np.nan)
    share = np.nan_to_num(ratio, nan=0.0)
    access = np.zeros(len(pop))
    for c in _chunks(len(t)):
        w = _weights(decay, t[c])
        access += np.bincount(o[c], weights=w * share[d[c]], minlength=len(pop))
    return weighted_demand, ratio, access


def _fca(
    times: pd.DataFrame | SparseTimes,
    demand: pd.Series,
    supply: pd.Series,
    decay: Decay,
    *,
    step1_demand: pd.Series | None = None,
) -> tuple[NDArray[np.float64], pd.DataFrame, pd.Index]:
    """Both steps; returns the access per origin (aligned on demand), by_site, unreached."""
    sparse = isinstance(times, SparseTimes)
    if not sparse and not isinstance(times, pd.DataFrame):
        raise TypeError(f"times: expected a DataFrame or SparseTimes, got {type(times).__name__}")
    where = "travel-time table"
    if not sparse:
        require_columns(times, [C.ORIGIN_ID, C.DESTINATION_ID, C.TRAVEL_TIME_MIN], where=where)
    demand = _check_amounts(demand, what="demand", index_name="origin id")
    supply = _check_amounts(supply, what="supply", index_name="site id")
    weights_pop = demand
    if step1_demand is not None:
        weights_pop = _check_amounts(
            step1_demand, what="standardised population", index_name="origin id"
        )
        if len(weights_pop) != len(demand) or not demand.index.isin(weights_pop.index).all():
            raise DataError(
                "standardised population: its ids must be those of the demand "
                f"({len(weights_pop)} ids given for {len(demand)} origins)"
            )
        weights_pop = weights_pop.reindex(demand.index)

    if sparse:
        t, o, d = _sparse_codes(times, demand, supply)
    else:
        t, o, d = _times_and_codes(times, demand, supply)
    s = supply.to_numpy()
    weighted_demand, ratio, access = _two_steps(t, o, d, decay, weights_pop.to_numpy(), s)

    by_site = pd.DataFrame(
        {C.SUPPLY: s, C.WEIGHTED_DEMAND: weighted_demand, C.SUPPLY_RATIO: ratio},
        index=supply.index,
    )
    by_site.index.name = C.DESTINATION_ID
    unreached = supply.index[(weighted_demand <= 0) & (s > 0)]
    if len(unreached):
        warn(
            f"{len(unreached)} site(s) with a supply are reached by no demand within the "
            f"catchment; their supply ({s[(weighted_demand <= 0) & (s > 0)].sum():g} in "
            "total) is allocated to nobody: " + ", ".join(map(str, unreached[:10]))
        )
    no_rows = np.bincount(o, minlength=len(demand)) == 0
    if no_rows.any():
        warn(
            f"{int(no_rows.sum())} origin(s) of the demand have no row in the travel-time "
            "table; their access is 0: " + ", ".join(map(str, demand.index[no_rows][:10]))
        )
    return access, by_site, unreached


def two_step_fca(
    times: pd.DataFrame | SparseTimes,
    demand: pd.Series,
    supply: pd.Series,
    *,
    decay: Decay | None = None,
) -> CatchmentResult:
    """Two-step floating catchment area (2SFCA): supply within reach per inhabitant.

    Step 1, for each site *j*: ``R_j = S_j / sum_k w(t_kj) P_k``; step 2, for each origin
    *i*: ``A_i = sum_j w(t_ij) R_j`` (Luo & Wang 2003, with the decay ``w`` in both steps,
    as pysal/access does).

    Parameters
    ----------
    times
        Long table ``origin_id, destination_id, travel_time_min`` (NaN = unreachable),
        or :class:`~accessibility.engine.matrix.SparseTimes` (the reachable pairs).
        Each pair at most once; every origin id must be in ``demand`` and every
        destination id in ``supply``.
    demand
        Population indexed by origin id (finite, >= 0; zero-population origins are fine).
    supply
        Capacity indexed by site id (finite, >= 0), e.g. general practitioners.
    decay
        Weight of a trip by its minutes (see :func:`step`, :func:`stepwise`,
        :func:`gaussian`, :func:`power`). Default: :func:`step` at the threshold of
        ``catchment.toml`` (30 minutes, Luo & Wang 2003).

    Returns
    -------
    CatchmentResult
        ``by_origin`` with ``population`` and ``accessibility`` (supply units per
        inhabitant; 0 for an origin that reaches no site), ``by_site`` with ``supply``,
        ``weighted_demand`` and ``supply_ratio``, and ``unreached_sites``.

    Warns
    -----
    DataWarning
        When a site with supply is reached by no demand, or an origin of the demand has
        no row in ``times``.
    """
    if decay is None:
        decay = step(load_catchment_parameters().two_step_threshold_min)
    access, by_site, unreached = _fca(times, demand, supply, decay)
    by_origin = pd.DataFrame(
        {C.POPULATION: demand.to_numpy(dtype=np.float64), C.ACCESSIBILITY: access},
        index=demand.index,
    )
    by_origin.index.name = C.ORIGIN_ID
    return CatchmentResult(by_origin, by_site, unreached)


def enhanced_two_step_fca(
    times: pd.DataFrame | SparseTimes,
    demand: pd.Series,
    supply: pd.Series,
    *,
    bands: Mapping[float, float] | None = None,
) -> CatchmentResult:
    """Enhanced 2SFCA (E2SFCA, Luo & Qi 2009): 2SFCA with banded weights in both steps.

    ``bands`` is ``{upper bound in minutes: weight}`` (closed on the right); default:
    Luo & Qi's 1.00, 0.68, 0.22 for 0-10, 10-20, 20-30 minutes (``catchment.toml``).
    See :func:`two_step_fca` for the other parameters and the result.
    """
    decay = luo_qi_2009() if bands is None else stepwise(bands)
    return two_step_fca(times, demand, supply, decay=decay)


def apl(
    times: pd.DataFrame | SparseTimes,
    demand: pd.Series,
    supply_consultations: pd.Series,
    *,
    decay: Decay | None = None,
    standardised_population: pd.Series | None = None,
) -> CatchmentResult:
    """APL-style index (accessibilité potentielle localisée, DREES/IRDES).

    A floating catchment whose result reads "consultations (or FTE practitioners)
    accessible per inhabitant a year". The DREES computes it between communes with a
    banded decay over 20 minutes and a demand standardised by the consumption of GP
    care of each age group; this function takes that standardised demand as an explicit
    input, since the DREES's age weights are not published with the method here.

    Parameters
    ----------
    times, demand
        As in :func:`two_step_fca`.
    supply_consultations
        Supply per site, indexed by site id: consultations and visits a year (or FTE
        practitioners; the result is then FTE per inhabitant). For the zonage the
        DREES leaves out practitioners aged over 65: prepare the supply accordingly.
    decay
        Default :func:`drees_apl` (1 up to 10 min, 2/3 to 15, 1/3 to 20).
    standardised_population
        Age-standardised demand per origin (same ids as ``demand``), used in step 1
        instead of ``demand``; see :func:`standardise_population`. ``None``: the plain
        population (an unweighted APL).

    Returns
    -------
    CatchmentResult
        ``by_origin`` has ``population``, ``standardised_population`` (when given) and
        ``apl``; compare it with :func:`underserved`.
    """
    if decay is None:
        decay = drees_apl()
    access, by_site, unreached = _fca(
        times, demand, supply_consultations, decay, step1_demand=standardised_population
    )
    cols: dict[str, NDArray[np.float64]] = {C.POPULATION: demand.to_numpy(dtype=np.float64)}
    if standardised_population is not None:
        cols[C.STANDARDISED_POPULATION] = standardised_population.reindex(demand.index).to_numpy(
            dtype=np.float64
        )
    cols[C.APL] = access
    by_origin = pd.DataFrame(cols, index=demand.index)
    by_origin.index.name = C.ORIGIN_ID
    return CatchmentResult(by_origin, by_site, unreached)


_GRID_ID = re.compile(r"^CRS3035RES(\d+)mN(\d+)E(\d+)$")


def _grid_corners(ids: pd.Index, *, what: str) -> tuple[NDArray[np.int64], NDArray[np.int64], int]:
    """Lower-left corners (EPSG:3035) and the one resolution of Eurostat grid ids."""
    found = [_GRID_ID.match(str(i)) for i in ids]
    if None in found:
        bad = ids[found.index(None)]
        raise DataError(f"{what}: expected Eurostat grid ids (CRS3035RES<size>mN<y>E<x>): {bad!r}")
    xyr = np.array([[int(m[3]), int(m[2]), int(m[1])] for m in found if m], dtype=np.int64)
    xyr = xyr.reshape(-1, 3)
    if len(set(xyr[:, 2])) > 1:
        raise DataError(f"{what}: cells of several sizes ({sorted(set(xyr[:, 2]))} m) in one grid")
    return xyr[:, 0], xyr[:, 1], int(xyr[0, 2]) if len(xyr) else 1


def outside_demand(territory: pd.Series, buffer: pd.Series) -> pd.Series:
    """The population of the buffer's grid cells that the territory's cells leave out.

    ``territory`` and ``buffer`` are populations indexed by Eurostat grid id; the buffer's
    cells (the census 1 km cells around the territory) hold the territory's, of the same
    size or finer (Filosofi 200 m). Matching them by id would count the territory twice
    on the 200 m grid (200 m ids never equal 1 km ids); instead each territory cell goes
    to the buffer cell that holds it (from the corner in its id), and each buffer cell
    keeps ``max(0, its population - that of the territory cells inside)``: nothing when
    it is a territory cell, the people outside when it straddles the edge. Returns the
    positive remainders by buffer cell id.
    """
    territory = _check_amounts(territory, what="territory demand", index_name="cell id")
    buffer = _check_amounts(buffer, what="buffer demand", index_name="cell id")
    tx, ty, t_res = _grid_corners(territory.index, what="territory demand")
    b_res = _grid_corners(buffer.index, what="buffer demand")[2]
    if len(territory) and len(buffer) and b_res % t_res:
        raise DataError(f"buffer demand: {b_res} m cells cannot hold the territory's {t_res} m")
    px, py = tx // b_res * b_res, ty // b_res * b_res
    parent = [f"CRS3035RES{b_res}mN{y}E{x}" for x, y in zip(px, py, strict=True)]
    inside = pd.Series(territory.to_numpy(), index=parent).groupby(level=0).sum()
    left = (buffer - inside.reindex(buffer.index, fill_value=0.0)).clip(lower=0.0)
    return left[left > 0]


def standardise_population(counts: pd.DataFrame, consumption: Mapping[str, float]) -> pd.Series:
    """Age-standardised demand: ``sum_g counts[g] * consumption[g]`` for each row.

    ``consumption`` gives, for each age-group column of ``counts``, the group's use of
    the service relative to the whole population's average use (so that a population
    with the reference age structure keeps its size). The DREES derives such weights
    from Assurance maladie data; none are shipped with this project.
    """
    require_columns(counts, list(consumption), where="population by age group")
    weights = pd.Series(consumption, dtype=np.float64)
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise DataError(f"consumption weights must be finite and >= 0, got {dict(consumption)}")
    values = counts[list(consumption)].astype(np.float64)
    if not np.isfinite(values.to_numpy()).all() or (values.to_numpy() < 0).any():
        raise DataError("population by age group: counts must be finite and >= 0")
    out = values.to_numpy() @ weights.to_numpy()
    return pd.Series(out, index=counts.index, name=C.STANDARDISED_POPULATION)


def underserved(
    values: pd.Series, *, below: float | None = None, parameters: CatchmentParameters | None = None
) -> pd.Series:
    """True where an APL is strictly below the "sous-dense" threshold (default 2.5).

    The 2017 zonage applies the threshold to the APL of a territoire de vie-santé, the
    population-weighted mean of its communes' APL (see :func:`population_weighted_mean`).
    """
    if below is None:
        below = (parameters or load_catchment_parameters()).underserved_below
    return (values < below).rename("underserved")


def population_weighted_mean(
    values: pd.Series, population: pd.Series, groups: pd.Series
) -> pd.Series:
    """Population-weighted mean of an origin indicator by group (commune, EPCI, ...).

    Parameters
    ----------
    values
        The indicator, indexed by origin id (no NaN).
    population
        The weights, indexed by origin id (finite, >= 0).
    groups
        The group of each origin, indexed by origin id.

    Returns
    -------
    pandas.Series
        Indexed by group; NaN for a group whose population is 0.
    """
    population = _check_amounts(population, what="population", index_name="origin id")
    for name, s in (("values", values), ("groups", groups)):
        missing = ~population.index.isin(s.index)
        if missing.any():
            raise DataError(
                f"{name}: {int(missing.sum())} origin id(s) of the population are missing, "
                "e.g. " + ", ".join(map(str, population.index[missing][:10]))
            )
    v = values.reindex(population.index)
    if v.isna().any():
        raise DataError(f"values: {int(v.isna().sum())} NaN value(s); expected numbers")
    g = groups.reindex(population.index)
    if g.isna().any():
        raise DataError(f"groups: {int(g.isna().sum())} origin(s) have no group")
    frame = pd.DataFrame({"wv": v.to_numpy() * population.to_numpy(), "w": population.to_numpy()})
    sums = frame.groupby(g.to_numpy(), sort=True).sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        out = sums["wv"] / sums["w"].where(sums["w"] > 0)
    out.index.name = groups.name
    return out.rename(values.name)
