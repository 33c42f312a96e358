GEOTAGGER_LAYER("land/-10_-170",{"scale":1000,"polygons":[[[-372,-160009,-17,-16,13,-5,4,21]]]});
