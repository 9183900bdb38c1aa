"""Reference map AUC of one demo band, independent of the workbench's code (GDAL + scikit-learn).

   /usr/bin/python3 tests/demo/recompute_map_auc.py PROBABILITY.tif BAND_NAME DEPOSITS.geojson SITES.geojson

Same definition as `geoanomaly evaluate --exclude-training` (main/cli/commands/evaluate.ts): the
ROC AUC of the cells holding a held-out deposit against every other valid map cell, after removing
the cells of the training sites; nodata (NaN) cells are not scored. Prints JSON {auc, deposits, cells}.
"""
import json
import sys

import numpy as np
from osgeo import gdal
from sklearn.metrics import roc_auc_score

tif, band_name, deposits_path, sites_path = sys.argv[1:5]
ds = gdal.Open(tif)
bands = [ds.GetRasterBand(i + 1) for i in range(ds.RasterCount)]
band = next(b for b in bands if b.GetDescription() == band_name)
values = band.ReadAsArray().astype(np.float64)
nodata = band.GetNoDataValue()
x0, dx, _, y0, _, dy = ds.GetGeoTransform()
rows, cols = values.shape
valid = np.isfinite(values)
if nodata is not None and np.isfinite(nodata):
    valid &= values != nodata

excluded = np.zeros_like(valid)
with open(sites_path) as f:
    for ft in json.load(f)["features"]:
        excluded[ft["properties"]["row"], ft["properties"]["col"]] = True

positive = np.zeros_like(valid)
with open(deposits_path) as f:
    for ft in json.load(f)["features"]:
        x, y = ft["geometry"]["coordinates"][:2]
        c, r = int(np.floor((x - x0) / dx)), int(np.floor((y - y0) / dy))
        if 0 <= r < rows and 0 <= c < cols:
            positive[r, c] = True

scored = valid & ~excluded
y_true = positive[scored].astype(int)
print(json.dumps({"auc": float(roc_auc_score(y_true, values[scored])), "deposits": int(y_true.sum()), "cells": int(scored.sum())}))
