"""The workshop dashboard: two scenarios of one community, side by side, week by week.

A layer above the model (sim) and the analysis (experiments); it imports both and nothing imports it.

* :mod:`dashboard.levers`: the policy levers the page exposes (keys, widgets, bounds, explanations);
* :mod:`dashboard.session`: scenarios A and B built from the same Hydra configs as the command line,
  each side's model started from one shared warm-up (:func:`~dashboard.session.warmed_model`), and the
  two models stepped together (:class:`~dashboard.session.Comparison`), shared by every page
  showing the same scenarios (:class:`~dashboard.session.SharedRun`);
* :mod:`dashboard.live`: the live view's indicators and charts at a week, built once for all pages;
* :mod:`dashboard.projector`: presentation mode's first screen: B − A of the watched indicator, large;
* :mod:`dashboard.indicators`: the key indicators against the Enyang plan targets, the fund's flows;
* :mod:`dashboard.room`, :mod:`dashboard.room_page`: a room code, short link and QR code; phones follow the run;
* :mod:`dashboard.community_view`: the community at work: A's and B's grids at the week, drawn in the browser;
* :mod:`dashboard.figures`: the page's plotly charts (key indicators; the linkage at work: who answered
  demands, public cost by kind, projects running and sessions; the fund) and the matplotlib charts of the exports;
* :mod:`dashboard.export`: CSV and PNG downloads;
* :mod:`dashboard.replicates`: A and B over 20 seeds (``sim.runs.runner.run_many``), 95 % bands;
* :mod:`dashboard.app`: the Streamlit page, which only lays these out;
* :mod:`dashboard.serve`: the offline launcher, ``python -m dashboard.serve``.

Every label comes from sim/tables/glossary.py (``sim.tables.glossary.label``), in English or Chinese.
"""
