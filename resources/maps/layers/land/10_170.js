GEOTAGGER_LAYER("land/10_170",{"scale":1000,"polygons":[[[10287,170879,-12,0,12,-4,0,4]]]});
