"""The app's request and response models (pydantic): what the API accepts and returns.

Owns: :class:`Selection` (the category, season and optional opening-hours window every
question is asked on), :class:`NewSite`,
:class:`ScenarioRequest`, :class:`OptimiseRequest`, :class:`TourRequest`,
:class:`CompareRequest` and the response models. Bounds are checked here, before any
computation; what needs the territory (a point inside it, a known service id) is
checked by :mod:`accessibility.app.state`.
"""

from __future__ import annotations

import functools
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from accessibility.indicators.windows import load_windows
from accessibility.inputs.categories import load_categories

#: The seasons the app offers: the base network and the winter scenario
#: (``data/scenarios/winter.toml``: closed passes, slower mountain roads, peak population).
SEASONS = {"base": "Référence (hors saison)", "winter": "Hiver (cols fermés, population de pointe)"}

Season = Literal["base", "winter"]

#: Most sites added or removed in one scenario, new sites asked of the optimiser,
#: scenarios compared side by side.
MAX_ADDED = 5
MAX_REMOVED = 20
MAX_K = 3
MAX_COMPARED = 3


@functools.lru_cache(maxsize=1)
def category_keys() -> frozenset[str]:
    """The known categories, read once per process (the file does not change while the
    app runs; restart it after editing data/services/categories.toml)."""
    return frozenset(load_categories())


@functools.lru_cache(maxsize=1)
def windows() -> tuple[dict[str, str], frozenset[str]]:
    """The time windows (key -> French label) and the categories whose sources publish
    opening hours (``data/indicators/windows.toml``), read once per process."""
    settings = load_windows()
    return {k: w.label for k, w in settings.windows.items()}, frozenset(settings.categories)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Selection(_Strict):
    """The category and season a question is asked on."""

    category: str = Field(
        "france_services", max_length=60, description="A key of data/services/categories.toml."
    )
    season: Season = Field("base", description="base, or winter (data/scenarios/winter.toml).")
    window: str | None = Field(
        None,
        max_length=40,
        description="A time window of data/indicators/windows.toml (e.g. samedi_matin): "
        "only the existing sites open in it count; new sites are taken as open in it.",
    )

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str) -> str:
        cats = category_keys()
        if value not in cats:
            known = ", ".join(sorted(cats))
            raise ValueError(f"catégorie inconnue : {value!r} (connues : {known})")
        return value

    @field_validator("window")
    @classmethod
    def _known_window(cls, value: str | None) -> str | None:
        if value is not None and value not in windows()[0]:
            known = ", ".join(windows()[0])
            raise ValueError(f"créneau horaire inconnu : {value!r} (connus : {known})")
        return value

    @model_validator(mode="after")
    def _window_has_hours(self) -> Selection:
        if self.window is not None and self.category not in windows()[1]:
            with_hours = ", ".join(sorted(windows()[1]))
            raise ValueError(
                f"la catégorie {self.category} n'a pas d'horaires d'ouverture publiés : un "
                f"créneau ne s'applique qu'à {with_hours}"
            )
        return self


class NewSite(_Strict):
    """A proposed site: a point (``lon``, ``lat``, WGS84) or a commune (at its town hall)."""

    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    commune: str | None = Field(
        None, pattern=r"^\d[0-9AB]\d{3}$", description="INSEE code of a commune of the territory."
    )

    @model_validator(mode="after")
    def _one_place(self) -> NewSite:
        has_point = self.lon is not None and self.lat is not None
        if has_point == (self.commune is not None) or (self.lon is None) != (self.lat is None):
            raise ValueError("donner soit lon et lat, soit commune (code INSEE), pas les deux")
        return self


class ScenarioRequest(Selection):
    """Sites added and existing sites removed for the selection's category."""

    added: list[NewSite] = Field(default_factory=list, max_length=MAX_ADDED)
    removed: list[str] = Field(default_factory=list, max_length=MAX_REMOVED)

    @field_validator("removed")
    @classmethod
    def _short_ids(cls, value: list[str]) -> list[str]:
        if any(len(v) > 120 for v in value):
            raise ValueError("identifiant de site trop long (120 caractères au plus)")
        if len(set(value)) != len(value):
            raise ValueError("un même site est fermé deux fois")
        return value


class OptimiseRequest(Selection):
    """Best ``k`` new sites among the town halls, the existing ones kept."""

    k: int = Field(1, ge=1, le=MAX_K, description=f"New sites, 1 to {MAX_K}.")
    model: Literal["mclp", "p-median"] = "mclp"
    removed: list[str] = Field(default_factory=list, max_length=MAX_REMOVED)


class TourRequest(Selection):
    """An itinerant tour over the town halls (``planning.itinerant``)."""

    depot: str = Field(..., pattern=r"^\d[0-9AB]\d{3}$", description="INSEE code of the depot.")
    days: int = Field(2, ge=1, le=5)
    day_hours: float = Field(7, gt=0, le=12)
    stop_minutes: float = Field(120, ge=15, le=480)
    time_limit_s: float = Field(3, gt=0, le=20)


class CompareRequest(_Strict):
    """Up to three scenarios evaluated side by side."""

    scenarios: list[ScenarioRequest] = Field(..., min_length=1, max_length=MAX_COMPARED)


# --- responses ---------------------------------------------------------------------------


class Site(BaseModel):
    site_id: str
    label: str
    commune_code: str | None = None
    lon: float
    lat: float


class Ages(BaseModel):
    total: float
    age_65plus: float
    under_15: float


class EpciChange(BaseModel):
    epci_code: str
    epci_name: str
    mean_before_min: float | None
    mean_after_min: float | None
    change_mean_min: float | None
    newly_within: float


class PriorityServed(BaseModel):
    commune_code: str
    commune_name: str
    rank: int
    newly_within: float


class SheetFigures(BaseModel):
    """The « fiche projet » of one added site (``planning.project.project_sheet``)."""

    place: str
    catchment: list[dict[str, float]]
    nearest: dict[str, float]
    priority: list[dict[str, str | float | int | None]]
    rank: int
    n_ranked: int


class ScenarioFigures(BaseModel):
    """What a scenario changes (``planning.sites.evaluate_scenario``)."""

    category: str
    category_label: str
    season: str
    threshold_min: float
    summary_fr: str
    added: list[Site]
    removed: list[Site]
    newly_within: Ages
    no_longer_within: float
    mean_before_min: float | None
    mean_after_min: float | None
    unreachable_pop_before: float
    unreachable_pop_after: float
    epci: list[EpciChange]
    priority_served: list[PriorityServed]
    times_after: list[float | None]
    """Each cell's time after the scenario (cell order of ``/api/cells``)."""
    sheet: SheetFigures | None = None
    elapsed_ms: float
    """Wall time of the answer in the server, milliseconds."""
    cpu_ms: float
    """CPU time of the server process for the answer, milliseconds (what the answer
    costs on an idle core, whatever the machine's load)."""


class OptimiseFigures(BaseModel):
    model: str
    k: int
    method: str
    chosen: list[Site]
    scenario: ScenarioFigures


class TourStop(BaseModel):
    day: int
    order: int
    commune_code: str
    commune_name: str
    arrive: str
    depart: str | None
    drive_min: float
    lon: float
    lat: float


class TourFigures(BaseModel):
    summary_fr: str
    depot: Site
    stops: list[TourStop]
    """The stops, day by day (the depot is not one)."""
    returns: dict[int, str]
    """Each day's return time at the depot."""
    paths: dict[int, list[list[float]]]
    """Each day's drive on the roads, depot to depot, as [lon, lat] points."""
    comparison: list[dict[str, str | float | None]]
    elapsed_ms: float
