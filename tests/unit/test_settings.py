from __future__ import annotations

from pathlib import Path

import pytest

from suraksha.errors import ConfigError
from suraksha.settings import SETTINGS, Secret, Settings


def test_precedence_env_over_file_over_default(tmp_path: Path) -> None:
    config = tmp_path / "s.toml"
    config.write_text("pdq_quality_floor = 60\nvideo_fps = 2.0\n")
    settings = Settings.load(environ={"SURAKSHA_VIDEO_FPS": "5"}, config_file=config)
    assert settings.pdq_quality_floor == 60 and settings.sources["pdq_quality_floor"] == "config file"
    assert settings.video_fps == 5.0 and settings.sources["video_fps"] == "environment"
    assert settings.default_pdq_threshold == 31 and settings.sources["default_pdq_threshold"] == "default"


def test_secrets_never_print() -> None:
    settings = Settings.load(environ={"SURAKSHA_DATABASE_URL": "postgresql://u:hunter2@h/db"})
    assert "hunter2" not in repr(settings.values["database_url"])
    assert isinstance(settings.values["database_url"], Secret)
    assert all("hunter2" not in row["value"] for row in settings.describe())
    assert settings.resolved_database_url.endswith("@h/db")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SURAKSHA_PDQ_QUALITY_FLOOR": "lots"}, "not a valid int"),
        ({"SURAKSHA_PDQ_MODE": "turbo"}, "pdq_mode"),
        ({"SURAKSHA_DEFAULT_PDQ_THRESHOLD": "64"}, "between 0 and 63"),
        ({"SURAKSHA_MEDIA_MAX_BYTES": "0"}, "positive"),
        ({"SURAKSHA_CONFIG": "/nonexistent/suraksha.toml"}, "does not exist"),
    ],
)
def test_bad_config_is_a_clear_error(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.load(environ=env)


def test_unknown_and_malformed_config_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("pdq_quality_floor = [")
    with pytest.raises(ConfigError, match="not valid TOML"):
        Settings.load(environ={}, config_file=bad)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("colour = 'blue'\n")
    with pytest.raises(ConfigError, match="unknown setting"):
        Settings.load(environ={}, config_file=unknown)


def test_default_database_is_sqlite_in_data_dir(tmp_path: Path) -> None:
    settings = Settings.load(environ={"SURAKSHA_DATA_DIR": str(tmp_path)})
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'suraksha.sqlite3'}"


def test_every_setting_documented() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    for setting in SETTINGS:
        assert setting.env_var in readme, f"{setting.env_var} missing from README's settings table"


def test_settings_are_typed_attributes_of_the_table() -> None:
    """Every row of SETTINGS is a declared, typed attribute of Settings (mypy checks each read), and
    nothing is declared that the table does not hold."""
    declared = {
        name: hint for name, hint in Settings.__annotations__.items() if name not in {"values", "sources"}
    }
    assert set(declared) == {s.name for s in SETTINGS}
    for s in SETTINGS:
        expected = "Secret" if s.secret else s.type.__name__
        if s.default is None:
            expected += " | None"
        assert declared[s.name] == expected, s.name


def test_settings_are_read_only_and_unknown_names_fail() -> None:
    settings = Settings.load(environ={})
    with pytest.raises(AttributeError):
        settings.video_fps = 3.0  # type: ignore[misc]
    with pytest.raises(AttributeError):
        _ = settings.no_such_setting  # type: ignore[attr-defined]
