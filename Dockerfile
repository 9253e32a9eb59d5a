# Airflow image with the project's pinned dependencies and code installed.
FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:root requirements.lock pyproject.toml README.md /opt/satudata/
COPY --chown=airflow:root satudata /opt/satudata/satudata
COPY --chown=airflow:root transforms /opt/satudata/transforms
RUN pip install --no-cache-dir -r /opt/satudata/requirements.lock \
 && pip install --no-cache-dir --no-deps /opt/satudata
