"""Album export: copies with locations written in, and KML / GPX / GeoJSON / HTML map files."""
