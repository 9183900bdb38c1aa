# Times R gstat on the benchmark problem written by bench/kriging.ts (called by it; not standalone).
# Usage: Rscript bench/kriging-gstat.R POINTS.csv MODELS.csv NFIELDS NMAX XMIN YMIN CELL ROWS COLS OUT.json
# POINTS.csv: x,y,f0,f1,... ; MODELS.csv: field,nugget,psill,range (spherical, gstat parameterisation).
# Only krige() is timed (one call per field, as a user would loop over elements); loading is not.
suppressPackageStartupMessages({ library(sp); library(gstat); library(jsonlite) })
a <- commandArgs(trailingOnly = TRUE)
pts <- read.csv(a[1]); models <- read.csv(a[2])
nfields <- as.integer(a[3]); nmax <- as.integer(a[4])
xmin <- as.numeric(a[5]); ymin <- as.numeric(a[6]); cell <- as.numeric(a[7])
rows <- as.integer(a[8]); cols <- as.integer(a[9])
coordinates(pts) <- ~x + y
# Cell centres, row-major from the north-west corner (the GeoTIFF order of bench/kriging.ts).
gx <- xmin + (0:(cols - 1) + 0.5) * cell
gy <- ymin + rows * cell - (0:(rows - 1) + 0.5) * cell
grid <- data.frame(x = rep(gx, times = rows), y = rep(gy, each = cols))
coordinates(grid) <- ~x + y
gridded(grid) <- TRUE
first <- NULL
t <- system.time({
  for (f in 1:nfields) {
    name <- paste0("f", f - 1)
    m <- vgm(models$psill[f], "Sph", models$range[f], models$nugget[f])
    k <- krige(as.formula(paste(name, "~ 1")), pts, grid, model = m, nmax = nmax, debug.level = 0)
    if (f == 1) first <- k$var1.pred
  }
})
# krige on a gridded target may reorder cells; return them in our row-major order.
kc <- coordinates(grid)
ord <- order(-kc[, 2], kc[, 1])
writeLines(toJSON(list(elapsed = unname(t["elapsed"]), cpu = unname(t["user.self"] + t["sys.self"]),
                       gstat = as.character(packageVersion("gstat")), r = R.version.string,
                       pred0 = first[ord]), digits = NA, auto_unbox = TRUE), a[10])
