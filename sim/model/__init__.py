"""The model: one community under one policy, a week per step (``community_model.CommunityModel``), its parties
(residents, the community platform, organisations and social workers, enterprises, the fund, projects,
self-organisations, charity sales), the week's record and indicators, and many communities in one district.

Above the settings and the levers; below the tables and the runs (tests/test_layers.py).
"""
