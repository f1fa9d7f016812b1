"""The planner's workbench: a local web app over the planning functions.

Owns: the app's precomputed state per territory, season and category (:mod:`.state`),
its request and response models (:mod:`.models`), the JSON API and the page
(:mod:`.api`, ``static/``), the scenario exports served as responses
(:mod:`.exports`) and the uvicorn start (:mod:`.server`). Answers come from
:mod:`accessibility.planning` (``project_sheet``, ``evaluate_scenario``,
``choose_sites``, ``plan_itinerant_tour``) given matrices computed once; nothing is
re-implemented here.

May import: :mod:`accessibility.core`, :mod:`accessibility.inputs`,
:mod:`accessibility.network`, :mod:`accessibility.engine`,
:mod:`accessibility.indicators`, :mod:`accessibility.validation`,
:mod:`accessibility.planning`, :mod:`accessibility.outputs`,
:mod:`accessibility.pipeline`. Only the CLI imports it.
"""
