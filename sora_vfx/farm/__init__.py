"""Farms: Open Job Description job bundles (Deadline Cloud, ``openjd run``) and a Dask
distributed executor. Both run the same shots as a local render, one task per shot."""

from .bundle import BUNDLE_FILES, Bundle, FarmRender, export_bundle, job_template, parameter_values
from .cluster import ClusterRender, check_scheduler_address, render_on_cluster
from .plan import conform_from_disk, plan_without_weights

__all__ = [
    "BUNDLE_FILES",
    "Bundle",
    "ClusterRender",
    "FarmRender",
    "check_scheduler_address",
    "conform_from_disk",
    "export_bundle",
    "job_template",
    "parameter_values",
    "plan_without_weights",
    "render_on_cluster",
]
