"""Sources of a lab function (packaged by labkit.lab.packages, not imported)."""
