GEOTAGGER_LAYER("land/-30_-90",{"scale":1000,"polygons":[[[-26275,-80090,0,-18,9,12,-9,6]]]});
