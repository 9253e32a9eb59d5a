"""The Retry-After header, as the HTTP transport of the agency APIs and the portal reads it."""


def test_retry_after_parsing():
    from satudata.transport import retry_after_seconds

    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past
