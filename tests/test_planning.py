"""Tests of the planners' tools (accessibility.planning: candidates, changes, sites,
project, itinerant) and their commands."""

from __future__ import annotations

import itertools
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import Point

from accessibility.core import columns as C
from accessibility.core.errors import (
    CRSError,
    DataError,
    DuplicateIdError,
    MissingColumnError,
    SnapWarning,
)
from accessibility.planning.candidates import read_candidates
from accessibility.planning.changes import change_summary, nearest_time, rank_sites
from accessibility.planning.itinerant import tour_priority
from accessibility.planning.project import slug
from accessibility.planning.sites import scenario_summary_fr

# --------------------------------------------------------------------------------------
# unit: hand-made tables
# --------------------------------------------------------------------------------------


def _table() -> pd.DataFrame:
    # three cells of commune A, one of commune B
    return pd.DataFrame(
        {
            "commune_code": ["A", "A", "A", "B"],
            C.POP_TOTAL: [100.0, 50.0, 0.0, 10.0],
            "time_before_min": [5.0, 25.0, 40.0, np.nan],
            "time_after_min": [5.0, 12.0, 8.0, 18.0],
        }
    )


def test_change_summary_whole_table_by_hand():
    out = change_summary(_table(), threshold_min=20, minutes=(10, 20))
    r = out.iloc[0]
    assert r["population"] == 160
    # mean before over reachable cells: (100*5 + 50*25 + 0*40) / 150 = 1750/150
    assert r["mean_before_min"] == pytest.approx(1750 / 150)
    # mean after: (100*5 + 50*12 + 0*8 + 10*18) / 160 = 1280/160 = 8
    assert r["mean_after_min"] == pytest.approx(8.0)
    # max over inhabited cells only: before 25 (the 40-min cell is empty), after 18
    assert r["max_before_min"] == 25 and r["max_after_min"] == 18
    # within 10: before 100, after 100 ; within 20: before 100, after 100+50+10 = 160
    assert (r["within_10_before"], r["within_10_after"]) == (100, 100)
    assert (r["within_20_before"], r["within_20_after"]) == (100, 160)
    # newly within 20: the 25-min cell (50) and the unreachable one (10)
    assert r["newly_within"] == 60 and r["no_longer_within"] == 0


def test_change_summary_by_group_and_loss():
    t = _table()
    # swap before and after: a closure, people lose access
    t[["time_before_min", "time_after_min"]] = t[["time_after_min", "time_before_min"]].to_numpy()
    out = change_summary(t, threshold_min=20, minutes=(20,), by="commune_code").set_index(
        "commune_code"
    )
    assert out.loc["A", "no_longer_within"] == 50  # 12 -> 25 min
    assert out.loc["B", "no_longer_within"] == 10  # 18 min -> unreachable
    assert np.isnan(out.loc["B", "mean_after_min"])  # nobody reaches a site
    assert out.loc["B", "mean_before_min"] == 18


def test_change_summary_reports_the_unreachable_population_beside_each_mean():
    # the 10 inhabitants of B reach no site before: left out of the mean before, and
    # reported; after, every cell reaches one
    whole = change_summary(_table(), threshold_min=20).iloc[0]
    assert (whole["unreachable_pop_before"], whole["unreachable_pop_after"]) == (10, 0)
    cols = list(change_summary(_table(), threshold_min=20).columns)
    assert cols.index("unreachable_pop_before") == cols.index("mean_before_min") + 1
    by = change_summary(_table(), threshold_min=20, by="commune_code").set_index("commune_code")
    assert by["unreachable_pop_before"].to_dict() == {"A": 0, "B": 10}


def test_nearest_time_ignores_nan_and_empty():
    t = np.array([[np.nan, 7.0, 3.0], [np.nan, np.nan, np.nan]])
    assert nearest_time(t, [0, 1]).tolist()[0] == 7.0
    assert np.isnan(nearest_time(t, [0, 1, 2])[1])
    assert np.isnan(nearest_time(t, [])).all()


def test_rank_sites_by_hand():
    # cells: pop 100, 50, 10; before 30, 5, NaN; threshold 20
    times = np.array(
        [
            [10.0, 25.0],  # cell 0: site a brings it within 20, saves 20; b saves 5
            [1.0, 40.0],  # cell 1: a saves 4; b none
            [np.nan, 15.0],  # cell 2 (no site before): b brings it within 20
        ]
    )
    out = rank_sites(
        times, np.array([30.0, 5.0, np.nan]), np.array([100.0, 50.0, 10.0]), ["a", "b"],
        threshold_min=20,
    )  # fmt: skip
    a = out.set_index(C.SITE_ID).loc["a"]
    b = out.set_index(C.SITE_ID).loc["b"]
    assert a["newly_within"] == 100 and b["newly_within"] == 10
    # a: (100*20 + 50*4) / 160 = 13.75 ; b: 100*5 / 160 = 3.125
    assert a["mean_saved_min"] == pytest.approx(13.75)
    assert b["mean_saved_min"] == pytest.approx(3.125)
    assert out[C.SITE_ID].tolist() == ["a", "b"] and out["rank"].tolist() == [1, 2]


def test_summary_fr_names_places_and_figures():
    text = scenario_summary_fr("France Services", ["Valloire"], [], 1240, 20, 14.2, 12.1)
    assert text.startswith("Un site France Services de plus à Valloire : +1\u202f240 habitants")
    assert "20\u00a0min ou moins" in text and "14\u00a0min → 12\u00a0min" in text
    loss = scenario_summary_fr("France Services", [], ["FS (73248)"], -300, 30, 9.0, 9.5)
    assert loss.startswith("Fermeture du site France Services FS (73248) : −300 habitants")


def test_tour_priority_weights_between_one_and_two():
    w = tour_priority(pd.Series([np.nan, 0.0, 5.0, 10.0]))
    assert w.tolist() == [1.0, 1.0, 1.5, 2.0]


def test_slug():
    assert slug("Saint-Jean-de-Maurienne (73248)") == "saint-jean-de-maurienne"
    assert slug("Épierre") == "epierre"


def test_read_candidates_csv(tmp_path):
    f = tmp_path / "c.csv"
    f.write_text("id,label,lon,lat\n1,Salle des fêtes,6.43,45.17\n2,École,6.35,45.28\n")
    c = read_candidates(f)
    assert c[C.SITE_ID].tolist() == ["1", "2"] and c.crs.to_epsg() == 4326
    assert c.geometry.iloc[0].x == pytest.approx(6.43)


def test_read_candidates_missing_column_names_file_and_column(tmp_path):
    f = tmp_path / "c.csv"
    f.write_text("id,name,lon,lat\n1,x,6.4,45.1\n")
    with pytest.raises(MissingColumnError, match=r"c\.csv.*'label'"):
        read_candidates(f)


def test_read_candidates_duplicate_ids(tmp_path):
    f = tmp_path / "c.csv"
    f.write_text("id,label,lon,lat\n1,a,6.4,45.1\n1,b,6.5,45.2\n")
    with pytest.raises(DuplicateIdError):
        read_candidates(f)


def test_read_candidates_duplicate_ids_name_the_users_column(tmp_path):
    f = tmp_path / "c.csv"
    f.write_text("ref,label,lon,lat\n7,a,6.4,45.1\n7,b,6.5,45.2\n")
    with pytest.raises(DuplicateIdError, match=r"c\.csv: column 'ref'.*: 7") as err:
        read_candidates(f, id_column="ref")
    assert "site_id" not in str(err.value)


@pytest.mark.parametrize(
    ("name", "text", "match"),
    [
        ("empty.csv", "", r"empty\.csv: the file is empty"),
        ("header.csv", "id,label,lon,lat\n", r"header\.csv: no candidate site"),
        ("noid.csv", "id,label,lon,lat\n,Salle,6.4,45.1\n", r"noid\.csv: column 'id' is empty"),
        ("nolab.csv", "id,label,lon,lat\n1,,6.4,45.1\n", r"nolab\.csv: column 'label' is empty"),
        ("nan.csv", "id,label,lon,lat\n1,a,nan,nan\n", r"nan\.csv: 1 row.*valid lon/lat.*'1'"),
        ("cut.geojson", '{"type": "FeatureCollection", "features": [{"type": "Fea',
         r"cut\.geojson: cannot be read as GeoJSON"),
        ("bin.gpkg", "not a geopackage", r"bin\.gpkg: cannot be read"),
        ("latin.csv", b"id,label,lon,lat\n1,\xe9cole,6.4,45.1\n", r"latin\.csv: not a readable"),
    ],
)  # fmt: skip
def test_bad_candidate_files_are_named_errors(tmp_path, name, text, match):
    f = tmp_path / name
    f.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(DataError, match=match):
        read_candidates(f)


def test_nan_and_na_are_names_not_missing_values(tmp_path):
    # "nan" and "NA" are text a user may write (an id, a place called Nan): kept as is
    f = tmp_path / "c.csv"
    f.write_text("id,label,lon,lat\nnan,NA,6.4,45.1\nNA,nan,6.5,45.2\n")
    c = read_candidates(f)
    assert c[C.SITE_ID].tolist() == ["nan", "NA"]
    assert c[C.LABEL].tolist() == ["NA", "nan"]


def test_geojson_feature_without_geometry(tmp_path):
    f = tmp_path / "c.geojson"
    feature = {"type": "Feature", "properties": {"id": "a", "label": "A"}, "geometry": None}
    f.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    with pytest.raises(DataError, match=r"c\.geojson: column 'geometry': expected Point"):
        read_candidates(f)


def test_read_candidates_geojson_without_crs(tmp_path):
    f = tmp_path / "c.geojson"
    feature = {
        "type": "Feature",
        "properties": {"id": "a", "label": "A"},
        "geometry": {"type": "Point", "coordinates": [968330.0, 6452914.0]},  # Lambert 93
    }
    f.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    with pytest.raises(CRSError, match="no coordinate reference system"):
        read_candidates(f)


def test_commands_have_help():
    from accessibility.cli import main

    runner = CliRunner()
    for name in ("site", "project", "tour"):
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0, result.output
        assert "--territory" in result.output


# --------------------------------------------------------------------------------------
# integration: the Maurienne
# --------------------------------------------------------------------------------------

FS = "france_services"


def _halls(study, codes):
    from accessibility.planning.candidates import town_hall_candidates

    h = town_hall_candidates(study.layers.communes)
    return h[h[C.COMMUNE_CODE].isin(codes)].reset_index(drop=True)


@pytest.mark.integration
def test_adding_bonneval_brings_its_cells_within_and_lengthens_nothing(maurienne_study):
    from accessibility.planning.sites import evaluate_scenario

    # 20 min (the ministry's reference level): Bonneval's cells are 25-28 min from a
    # France Services with the calibrated model (beyond 30 min before it)
    ev = evaluate_scenario(
        maurienne_study, FS, added=_halls(maurienne_study, ["73047"]), threshold_min=20
    )
    cells = ev.cells
    before = cells["time_before_min"].fillna(np.inf)
    after = cells["time_after_min"].fillna(np.inf)
    assert (after <= before + 1e-9).all()  # invariant: adding never lengthens
    bonneval = cells[cells[C.COMMUNE_CODE] == "73047"]
    assert len(bonneval) and (bonneval["time_after_min"] <= ev.threshold_min).all()
    assert (bonneval["time_before_min"] > ev.threshold_min).any()  # it was beyond before
    assert "Bonneval-sur-Arc" in ev.summary_fr
    # the summary's gain is the territory's newly-within population
    t = ev.territory.iloc[0]
    assert t["newly_within"] == pytest.approx(
        cells.loc[(after <= 20) & ~(before <= 20), C.POP_TOTAL].sum()
    )
    assert set(ev.cells_before_after.columns) >= {"time_before_min", "time_after_min", "geometry"}
    table = ev.scenario_result().table.set_index("Indicateur")
    # the report's table carries the unreachable population beside the mean: on the one
    # Maurienne network every cell reaches a France Services, before and after
    assert cells[["time_before_min", "time_after_min"]].notna().all().all()
    assert table.loc["Habitants sans accès (hors de la moyenne)", "Avant"] == "0"


@pytest.mark.integration
def test_removing_a_site_never_shortens(maurienne_study):
    from accessibility.planning.candidates import existing_sites
    from accessibility.planning.sites import evaluate_scenario

    ex = existing_sites(maurienne_study, FS)
    sjm = ex.loc[ex[C.COMMUNE_CODE] == "73248", C.SITE_ID].iloc[0]
    ev = evaluate_scenario(maurienne_study, FS, removed=[sjm])
    before = ev.cells["time_before_min"].fillna(np.inf)
    after = ev.cells["time_after_min"].fillna(np.inf)
    assert (after >= before - 1e-9).all()
    assert (after > before).any()
    assert ev.territory["no_longer_within"].iloc[0] >= 0
    assert ev.summary_fr.startswith("Fermeture du site France Services")
    with pytest.raises(DataError, match="not services of category"):
        evaluate_scenario(maurienne_study, FS, removed=["nope"])


@pytest.mark.integration
def test_mclp_one_site_matches_brute_force(maurienne_study):
    from accessibility.engine.travel_times import od_matrix
    from accessibility.inputs.population import demand_points
    from accessibility.planning.candidates import existing_sites, town_hall_candidates
    from accessibility.planning.sites import choose_sites

    study = maurienne_study
    choice = choose_sites(study, FS, new=1, model="mclp", threshold_min=20)
    # brute force, independently: one od_matrix, each town hall added in turn
    halls = town_hall_candidates(study.layers.communes)
    ex = existing_sites(study, FS)
    sites = pd.concat([halls[[C.SITE_ID, "geometry"]], ex[[C.SITE_ID, "geometry"]]])
    pts = demand_points(study.layers.cells)
    with pytest.warns(SnapWarning):  # cells far from the roads (known)
        long = od_matrix(
            study.network, pts, study.access_points(gpd.GeoDataFrame(sites, crs=ex.crs)),
            origin_id=C.CELL_ID, destination_id=C.SITE_ID, snap=study.snap,
        )  # fmt: skip
    wide = long.pivot(index=C.ORIGIN_ID, columns=C.DESTINATION_ID, values=C.TRAVEL_TIME_MIN)
    wide = wide.reindex(pts[C.CELL_ID]).fillna(np.inf)
    pop = study.layers.cells[C.POP_TOTAL].to_numpy(float)
    base = wide[list(ex[C.SITE_ID])].min(axis=1).to_numpy()
    covered = {h: pop[np.minimum(base, wide[h].to_numpy()) <= 20].sum() for h in halls[C.SITE_ID]}
    best = max(covered.values())
    assert len(covered) == 53
    assert choice.result.objective >= best - 1e-6
    assert choice.evaluation.territory["within_20_after"].iloc[0] == pytest.approx(best)
    assert covered[choice.result.sites[0]] == pytest.approx(best)


@pytest.mark.integration
def test_choose_sites_bad_input(maurienne_study):
    from accessibility.planning.sites import choose_sites

    with pytest.raises(DataError, match=r"60 new site\(s\).*only 53 candidates"):
        choose_sites(maurienne_study, FS, new=60, model="mclp")
    with pytest.raises(DataError, match=r"LSCP infeasible with a threshold of 5 min"):
        choose_sites(maurienne_study, FS, new=1, model="lscp", threshold_min=5)
    with pytest.raises(DataError, match="unknown category 'nope'; known: .*france_services"):
        choose_sites(maurienne_study, "nope", new=1, model="mclp")
    far = gpd.GeoDataFrame(
        {C.SITE_ID: ["paris", "near"], C.LABEL: ["Paris", "Près"]},
        geometry=[Point(2.35, 48.85), Point(6.43, 45.17)], crs=4326,
    )  # fmt: skip
    with pytest.raises(DataError, match=r"outside the road network.*paris \(4\d\d\.\d km\)"):
        choose_sites(maurienne_study, FS, new=1, model="mclp", candidates=far)


@pytest.mark.integration
def test_candidate_a_few_km_off_road_is_named_in_a_warning(maurienne_study):
    from accessibility.planning.candidates import check_candidates

    # the demand point of a mountain cell that the diagnostic reports ~6.5 km off-road
    cells = maurienne_study.layers.cells
    far = cells[cells[C.CELL_ID] == "CRS3035RES1000mN2469000E4091000"]
    c = gpd.GeoDataFrame(
        {C.SITE_ID: ["alpage"], C.LABEL: ["Alpage"]},
        geometry=gpd.points_from_xy(far["x"], far["y"]),
        crs=cells.crs,
    )
    with pytest.warns(SnapWarning, match="alpage"):
        snap = check_candidates(maurienne_study, c, where="test candidates")
    assert 1_000 < snap[C.SNAP_DISTANCE_M].iloc[0] < 10_000


@pytest.mark.integration
def test_project_sheet_childcare_valloire(maurienne_study, maurienne_diagnostic, tmp_path):
    from accessibility.engine.travel_times import od_matrix
    from accessibility.inputs.communes import town_hall_points
    from accessibility.inputs.population import demand_points
    from accessibility.planning.project import project_sheet

    study = maurienne_study
    sheet = project_sheet(study, maurienne_diagnostic, "childcare", "Valloire")
    assert sheet.commune_code == "73306"
    valloire_cells = set(
        study.layers.cells.loc[study.layers.cells[C.COMMUNE_CODE] == "73306", C.CELL_ID]
    )
    assert set(sheet.cells[C.CELL_ID]) & valloire_cells
    assert (sheet.cells[C.COMMUNE_NAME] == "Valloire").any()
    # direct recomputation of the catchment: cells -> Valloire's town hall
    hall = town_hall_points(study.layers.communes)
    hall = hall[hall[C.COMMUNE_CODE] == "73306"]
    with pytest.warns(SnapWarning):
        t = od_matrix(study.network, demand_points(study.layers.cells),
                      study.access_points(hall), origin_id=C.CELL_ID,
                      destination_id=C.COMMUNE_CODE, snap=study.snap)  # fmt: skip
    t = t.set_index(C.ORIGIN_ID)[C.TRAVEL_TIME_MIN].reindex(study.layers.cells[C.CELL_ID])
    for r in sheet.catchment.itertuples(index=False):
        inside = (t.fillna(np.inf) <= r.minutes).to_numpy()
        cells = study.layers.cells
        assert r.pop_total == pytest.approx(cells.loc[inside, C.POP_TOTAL].sum())
        assert r.pop_65plus == pytest.approx(cells.loc[inside, C.POP_65PLUS].sum())
        assert r.pop_under15 <= r.pop_total
    assert 1 <= sheet.rank <= len(sheet.ranking) and len(sheet.alternatives) == 5
    assert not (sheet.alternatives[C.SITE_ID] == "mairie:73306").any()
    files = sheet.write(tmp_path)
    md = files["md"].read_text()
    assert "Fiche projet" in md and "Valloire" in md and "Mairie de" in md
    page = files["html"].read_text()
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page and "<script" not in page
    figs = pd.read_csv(files["csv"])
    assert set(figs["section"]) >= {"catchment", "nearest", "ranking"}


@pytest.mark.integration
def test_tour_days_fit_their_budget(maurienne_study, maurienne_diagnostic):
    from accessibility.planning.itinerant import plan_itinerant_tour

    day_hours, stop_min = 7, 120
    tour = plan_itinerant_tour(
        maurienne_study, depot="Saint-Jean-de-Maurienne", days=2, day_hours=day_hours,
        stop_minutes=stop_min, diagnostic=maurienne_diagnostic, time_limit_s=1.5,
    )  # fmt: skip
    m = tour.times.set_index([C.ORIGIN_ID, C.DESTINATION_ID])[C.TRAVEL_TIME_MIN]
    depot = tour.plan.depot
    assert depot == "73248"
    assert tour.plan.stop_ids, "no stop at all"
    for route in tour.plan.routes():
        if not route:
            continue
        legs = [depot, *route, depot]
        drive = sum(m[(a, b)] for a, b in itertools.pairwise(legs))
        assert drive + stop_min * len(route) <= day_hours * 60 + 1e-6
    # communes hosting a France Services are not stops
    assert not set(tour.plan.stop_ids) & set(tour.excluded_hosts)
    assert tour.comparison.shape == (7, 3)  # last row: population unreachable
    assert tour.schedule()[C.COMMUNE_NAME].notna().all()


def test_planning_entry_points_load_from_the_package():
    import accessibility.planning as planning
    from accessibility.planning import itinerant, project, sites

    assert planning.choose_sites is sites.choose_sites
    assert planning.project_sheet is project.project_sheet
    assert planning.plan_itinerant_tour is itinerant.plan_itinerant_tour
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = planning.nothing
