"""The fixed version of a lab function (packaged by labkit.lab.packages)."""
