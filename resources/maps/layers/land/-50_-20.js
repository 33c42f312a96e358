GEOTAGGER_LAYER("land/-50_-20",{"scale":1000,"polygons":[[[-40339,-10039,32,17,2,22,-57,0,23,-39]]]});
