"""Explanations of suggestions in the terms of Theiner et al. (WACV 2022): attribution maps, concept
masks (ImageNet concepts of the backbone, OCR text, an optional user segmenter) and concept influence.

Modules: influence (the paper's formula), attribution (CAM / neighbour similarity), concepts (vocabulary
in resources/concepts.json), text (OCR + scripts), segmenter, explainer (one photo), overlay, analysis.
"""
