"""The published report names the file checked, never where the pipeline keeps it."""

from satudata.gate.report import QualityReport, render_html


def test_the_report_shows_the_file_name_only():
    staged = "/work/satudata/data/staging/dpmptsp_izin_terbit_bulanan/2026-10/transformed.parquet"
    report = QualityReport(dataset_id="d", suite="s", rows=1, critical_failures=0, warnings=0, expectations=[],
                           parameters={}, source=staged)
    for text in (report.to_json(), render_html(report)):
        assert "transformed.parquet" in text and "/staging/" not in text and "/work" not in text
