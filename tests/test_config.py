"""Configuration order and the generated secret key."""

from __future__ import annotations

from matcher import create_app
from matcher.config import database_uri


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path):
    instance = tmp_path / "instance"
    first = create_app({"INSTANCE_PATH": str(instance), "DATABASE_URL": "sqlite://"})
    key_file = instance / "secret_key"
    assert key_file.exists() and oct(key_file.stat().st_mode & 0o777) == "0o600"
    second = create_app({"INSTANCE_PATH": str(instance), "DATABASE_URL": "sqlite://"})
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 32


def test_instance_config_then_environment(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text('ORG_NAME = "Acme"\nPASSWORD_MIN_LENGTH = 12\n')
    monkeypatch.setenv("MATCHER_PASSWORD_MIN_LENGTH", "14")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db.example/matcher")
    app = create_app({"INSTANCE_PATH": str(instance)})
    assert app.config["ORG_NAME"] == "Acme"
    assert app.config["PASSWORD_MIN_LENGTH"] == 14
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/matcher"
    monkeypatch.setenv("MATCHER_DATABASE_URL", "sqlite:////tmp/x.sqlite")
    assert create_app({"INSTANCE_PATH": str(instance)}).config["DATABASE_URL"].startswith("sqlite")


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path):
    assert database_uri("", tmp_path) == f"sqlite:///{tmp_path / 'matcher.sqlite'}"


def test_proxy_hops_from_the_environment_must_be_a_whole_number(tmp_path, monkeypatch):
    import pytest

    from matcher.config import proxy_hops

    assert proxy_hops(0) == 0 and proxy_hops(2) == 2 and proxy_hops(" 1 ") == 1
    for bad in (True, -2, 1.9, "one", "-1", "1.5"):
        with pytest.raises(ValueError, match="MATCHER_PROXY_HOPS"):
            proxy_hops(bad)
    monkeypatch.setenv("MATCHER_PROXY_HOPS", "1")
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x"})
    assert type(app.wsgi_app).__name__ == "ProxyFix"
    monkeypatch.setenv("MATCHER_PROXY_HOPS", "one")
    with pytest.raises(ValueError, match="MATCHER_PROXY_HOPS"):
        create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x"})
