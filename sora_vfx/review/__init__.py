"""Review: a dailies page, preview movies with burn-ins, and C2PA provenance for every render.

``build_review(out_dir, settings)`` writes ``OUT/review/index.html`` with thumbnails (OCIO view
transform from the EXRs' scene-linear colour), one H.264 MP4 per shot and one for the whole
edit; with a certificate and key every preview is signed (``read_credentials`` checks one).
"""

from .build import build_review, check_review, edit_of
from .provenance import DIGITAL_SOURCE_TYPE, GENERATION_LABEL, Credentials, load_signing_identity, read_credentials
from .report import ReviewReport, ShotReview, Thumbnail
from .settings import ReviewSettings, review_settings

__all__ = [
    "DIGITAL_SOURCE_TYPE",
    "GENERATION_LABEL",
    "Credentials",
    "ReviewReport",
    "ReviewSettings",
    "ShotReview",
    "Thumbnail",
    "build_review",
    "check_review",
    "edit_of",
    "load_signing_identity",
    "read_credentials",
    "review_settings",
]
