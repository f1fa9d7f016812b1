"""The app's HTTP side: the JSON API (FastAPI, documented at ``/docs``) and the page.

Owns: :func:`create_app` (routes, French 422 messages for bad requests, the page and
its offline Leaflet). Every answer comes from :class:`accessibility.app.state.AppState`.
No route takes a file path: exports are built in memory and sent as the response.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from accessibility.app import models as M
from accessibility.app.exports import FORMATS, ExportUnavailable, export_scenario
from accessibility.app.state import AppState, RequestError
from accessibility.core import columns as C
from accessibility.core.errors import AccessibilityError
from accessibility.inputs.categories import load_categories
from accessibility.outputs.maps._assets import asset_text
from accessibility.outputs.maps.roads import road_lines
from accessibility.planning.project import slug

STATIC = resources.files("accessibility.app") / "static"

#: Field names as the page calls them.
_FIELDS = {
    "category": "catégorie", "season": "saison", "added": "sites ajoutés",
    "removed": "sites fermés", "lon": "longitude", "lat": "latitude", "commune": "commune",
    "k": "nombre de nouveaux sites", "model": "modèle", "depot": "dépôt", "days": "jours",
    "day_hours": "heures par jour", "stop_minutes": "durée d'un arrêt",
    "time_limit_s": "temps de calcul", "scenarios": "scénarios",
}  # fmt: skip

#: pydantic error types in French ({...}: the error's context).
_MESSAGES = {
    "less_than_equal": "doit être au plus {le}",
    "greater_than_equal": "doit être au moins {ge}",
    "less_than": "doit être inférieur à {lt}",
    "greater_than": "doit être supérieur à {gt}",
    "literal_error": "valeur inconnue (attendu : {expected})",
    "missing": "champ obligatoire",
    "too_long": "trop long (au plus {max_length})",
    "too_short": "trop court (au moins {min_length})",
    "string_pattern_mismatch": "format inattendu (un code INSEE à 5 caractères est attendu)",
    "float_parsing": "un nombre est attendu",
    "int_parsing": "un nombre entier est attendu",
    "int_from_float": "un nombre entier est attendu",
    "extra_forbidden": "champ inconnu",
    "json_invalid": "JSON invalide",
    "model_attributes_type": "un objet JSON est attendu",
    "list_type": "une liste est attendue",
    "string_type": "un texte est attendu",
    "finite_number": "un nombre fini est attendu",
}


def _french(error: dict[str, Any]) -> dict[str, Any]:
    """One pydantic error as ``loc``, ``type`` and a French ``msg``."""
    kind = str(error.get("type", ""))
    ctx = {k: str(v).replace(" or ", " ou ") for k, v in (error.get("ctx") or {}).items()}
    if kind == "value_error":
        msg = str(error.get("msg", "")).removeprefix("Value error, ")
    else:
        msg = _MESSAGES.get(kind, "valeur refusée").format_map(ctx)
    loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path")]
    named = [_FIELDS.get(p, p) for p in loc]
    where = " › ".join(named)
    return {"loc": loc, "type": kind, "msg": f"{where} : {msg}" if where else msg}


def _error(errors: list[dict[str, Any]]) -> JSONResponse:
    return JSONResponse(
        status_code=422,
        content={"detail": errors, "message": " ; ".join(e["msg"] for e in errors)},
    )


@functools.cache
def _static(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def create_app(state: AppState) -> FastAPI:
    """The FastAPI application over ``state``."""
    app = FastAPI(
        title="accessibility — l'atelier du planificateur",
        description="What-if questions on the access to public services of "
        f"{state.territory_name}: new sites, closures, best sites, itinerant tours.",
        version="1",
        docs_url=None,  # served below from swagger-ui-bundle: FastAPI's default is a CDN
    )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error([_french(dict(e)) for e in exc.errors()])

    @app.exception_handler(RequestError)
    async def _refused(request: Request, exc: RequestError) -> JSONResponse:
        loc = exc.field.split(".")
        msg = f"{' › '.join(_FIELDS.get(p, p) for p in loc)} : {exc.message}"
        return _error([{"loc": loc, "type": "refused", "msg": msg}])

    @app.exception_handler(AccessibilityError)
    async def _failed(request: Request, exc: AccessibilityError) -> JSONResponse:
        return _error([{"loc": [], "type": "refused", "msg": f"demande impossible : {exc}"}])

    _routes_page(app, state)
    _routes_questions(app, state)
    return app


def _routes_page(app: FastAPI, state: AppState) -> None:
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> str:
        return _static("index.html")

    # the OpenAPI page offline (FastAPI's "self-hosting JavaScript and CSS for docs"
    # recipe): Swagger UI's files come from the swagger-ui-bundle package, not a CDN
    app.mount("/swagger", StaticFiles(directory=str(swagger_ui_path)), name="swagger")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url="/swagger/swagger-ui-bundle.js",
            swagger_css_url="/swagger/swagger-ui.css",
            swagger_favicon_url="/swagger/favicon-32x32.png",
        )

    @app.get("/vendor/{name}", include_in_schema=False)
    def vendor(name: Literal["leaflet.js", "leaflet.css"]) -> Response:
        kind = "leaflet" if name.endswith(".js") else "leaflet_css"
        media = "text/javascript" if name.endswith(".js") else "text/css"
        return Response(asset_text(kind), media_type=media)

    @app.get("/api/meta", summary="The territory, its categories, seasons and limits")
    def meta() -> dict[str, Any]:
        communes = state.study.layers.communes.sort_values(C.COMMUNE_NAME)
        bounds = state.area.bounds
        return {
            "territory": state.territory_name,
            "bounds": [[bounds[1], bounds[0]], [bounds[3], bounds[2]]],
            "categories": [
                {"key": c.key, "label": c.label, "threshold_min": c.threshold_min}
                for c in sorted(load_categories().values(), key=lambda c: c.label)
            ],
            "seasons": [{"key": k, "label": v} for k, v in state.seasons.items()],
            "windows": [{"key": k, "label": v} for k, v in M.windows()[0].items()],
            "window_categories": sorted(M.windows()[1]),
            "communes": [
                {"code": str(c), "name": str(n)}
                for c, n in zip(communes[C.COMMUNE_CODE], communes[C.COMMUNE_NAME], strict=True)
            ],
            "limits": {
                "added": M.MAX_ADDED,
                "removed": M.MAX_REMOVED,
                "k": M.MAX_K,
                "compared": M.MAX_COMPARED,
            },
        }

    layers = {"cells": _cells_json(state), "communes": _communes_json(state)}
    roads: list[str] = []  # built on first use (a second or so)

    @app.get("/api/cells", summary="The population cells (GeoJSON, in the order of `times`)")
    def cells() -> Response:
        return Response(layers["cells"], media_type="application/geo+json")

    @app.get("/api/roads", summary="The main roads, a context layer from the road network")
    def road_layer() -> Response:
        if not roads:
            lines = road_lines(state.study.network, state.study.layers.communes)
            cols = ["tier", "label_fr", "ref", "weight", "color", "geometry"]
            roads.append(lines[[c for c in cols if c in lines.columns]].to_json(drop_id=True))
        return Response(roads[0], media_type="application/geo+json")

    @app.get("/api/communes", summary="The communes' outlines (GeoJSON)")
    def communes() -> Response:
        return Response(layers["communes"], media_type="application/geo+json")


def _cells_json(state: AppState) -> str:
    cells = state.study.layers.cells
    out = cells[[C.CELL_ID, C.COMMUNE_CODE, C.POP_TOTAL, "geometry"]].to_crs(4326)
    return out.assign(i=range(len(out))).to_json(drop_id=True)


def _communes_json(state: AppState) -> str:
    c = state.study.layers.communes
    out = c[[C.COMMUNE_CODE, C.COMMUNE_NAME, "geometry"]].copy()
    out["geometry"] = out.geometry.simplify(30)
    return out.to_crs(4326).to_json(drop_id=True)


def _routes_questions(app: FastAPI, state: AppState) -> None:
    @app.get("/api/access", summary="Current access: each cell's time, the sites, the priorities")
    def access(sel: Annotated[M.Selection, Query()]) -> dict[str, Any]:
        return state.access(sel)

    @app.post("/api/scenario", summary="What-if: sites added and/or removed")
    def scenario(req: M.ScenarioRequest) -> M.ScenarioFigures:
        return state.scenario(req)

    @app.post("/api/optimise", summary="The best k new sites among the town halls")
    def optimise(req: M.OptimiseRequest) -> M.OptimiseFigures:
        return state.optimise(req)

    @app.post("/api/compare", summary="Up to three scenarios side by side")
    def compare(req: M.CompareRequest) -> list[M.ScenarioFigures]:
        return [state.scenario(s) for s in req.scenarios]

    @app.post("/api/tour", summary="An itinerant tour over the town halls")
    def tour(req: M.TourRequest) -> M.TourFigures:
        return state.tour(req)

    @app.post("/api/export/{fmt}", summary="A scenario as CSV, GeoJSON, HTML or PDF")
    def export(fmt: Literal["csv", "geojson", "html", "pdf"], req: M.ScenarioRequest) -> Response:
        ss, ev, sheet = state.evaluation(req)
        try:
            data = export_scenario(ev, sheet, fmt, ss.key, state.territory_name)
        except ExportUnavailable as exc:
            return _error([{"loc": ["fmt"], "type": "unavailable", "msg": str(exc)}])
        media, suffix = FORMATS[fmt]
        name = f"scenario_{slug(req.category)}_{req.season}.{suffix}"
        return Response(data, media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @app.get("/api/health", include_in_schema=False)
    def health() -> dict[str, Any]:
        return {"ok": True}
