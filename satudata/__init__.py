"""Satu Data Kaltim pipeline: agency systems -> quality gate -> Parquet/CSV -> CKAN."""

__version__ = "0.1.0"
