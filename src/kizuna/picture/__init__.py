"""The common operational picture (COP): tracks from AIS, CoT and operators.

``models`` (Track, Provenance), ``rules`` (pure merge/fuse/expiry/bbox),
``service`` (PictureService: ingest, hot state, reads, federation hooks),
``live`` (WebSocket hub), ``views`` (HTTP and WebSocket routes).
"""
