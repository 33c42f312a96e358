"""Locating as one staged pipeline; ``services/locating.py`` calls the stages in this order.

1. targets.py        which photos to locate (as PhotoPoints in ``run.points``), the geotagged photos and
                     GPS tracks they are located from
2. library_model.py  ``check``: is the trained library model stale (then the next stage also embeds the
                     geotagged photos for training)
3. embeddings.py     image embeddings of the geotagged photos and the targets, global-model predictions
   (clocks)          per-device clock offsets rewrite ``run.points`` here, before any evidence uses them
4. library_model.py  ``prepare``: train when stale, load the library model and the fusion for the sources
5. store.py          ``find_changed``: the suggestion key per photo; photos whose key is stored are skipped
6. evidence.py       per photo and source: the track position, the pool of time / library / global places
7. fusion.py         ranked, calibrated candidates from each photo's evidence
8. store.py          ``save``: the candidates as Suggestion rows (addresses looked up in one batch)

Everything that flows between stages lives on one ``LocateRun`` (run.py); each stage is a function
``stage(run) -> None`` that fills its part. ``services/training.py`` (``geotagger models train``) runs
stages 1, 3 and the library model's ``train`` alone.
"""
