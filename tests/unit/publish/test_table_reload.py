"""When a DataStore table may take just the period's rows, and when it must be reloaded whole."""

from satudata.publish.release import table_reload

OLD, PREVIOUS = "sha256:" + "a" * 64, "sha256:" + "b" * 64


def test_a_table_holding_the_previous_file_takes_the_period():
    assert table_reload(PREVIOUS, PREVIOUS) is None


def test_a_table_behind_the_previous_file_is_reloaded_and_says_why():
    # The run before uploaded PREVIOUS but its load failed: the table still holds OLD.
    why = table_reload(OLD, PREVIOUS)
    assert why is not None and OLD[:19] in why and PREVIOUS[:19] in why
    assert "earlier load did not finish" in why


def test_a_table_with_no_recorded_version_is_reloaded():
    assert table_reload(None, PREVIOUS) is not None
    assert table_reload("", None) is not None


def test_a_table_of_a_resource_that_had_no_file_is_reloaded():
    assert table_reload(OLD, None) is not None
