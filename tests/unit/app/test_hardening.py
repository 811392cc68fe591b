"""Pure pieces of the listener's hardening: settings, request ids, echoed text, parser errors."""

from __future__ import annotations

import pytest
from aiohttp import http_exceptions, web

from app.config import SettingsError, load_settings
from app.hardening import ECHO_MAX_CHARS, bounded_message, request_id
from app.listener import parser_error


def test_listener_settings() -> None:
    defaults = load_settings({})
    assert (defaults.max_connections, defaults.request_read_timeout_s) == (1000, 30.0)
    assert (defaults.cors_origins, defaults.tls_cert, defaults.tls_key) == ((), "", "")
    settings = load_settings(
        {
            "IMAGE_SERVICE_MAX_CONNECTIONS": "50",
            "IMAGE_SERVICE_REQUEST_READ_TIMEOUT": "10s",
            "IMAGE_SERVICE_CORS_ORIGINS": "https://a.example.com, http://b:8080/",
            "IMAGE_SERVICE_TLS_CERT": "/tls/tls.crt",
            "IMAGE_SERVICE_TLS_KEY": "/tls/tls.key",
        }
    )
    assert settings.max_connections == 50
    assert settings.request_read_timeout_s == 10.0
    assert settings.cors_origins == ("https://a.example.com", "http://b:8080")
    assert (settings.tls_cert, settings.tls_key) == ("/tls/tls.crt", "/tls/tls.key")


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"IMAGE_SERVICE_TLS_CERT": "/tls/tls.crt"}, "set both or neither"),
        ({"IMAGE_SERVICE_TLS_KEY": "/tls/tls.key"}, "set both or neither"),
        ({"IMAGE_SERVICE_CORS_ORIGINS": "*"}, "IMAGE_SERVICE_CORS_ORIGINS"),
        ({"IMAGE_SERVICE_CORS_ORIGINS": "https://a.example.com/app"}, "not an origin"),
        ({"IMAGE_SERVICE_MAX_CONNECTIONS": "0"}, "IMAGE_SERVICE_MAX_CONNECTIONS"),
        ({"IMAGE_SERVICE_REQUEST_READ_TIMEOUT": "0"}, "IMAGE_SERVICE_REQUEST_READ_TIMEOUT"),
    ],
)
def test_bad_listener_settings(env: dict[str, str], fragment: str) -> None:
    with pytest.raises(SettingsError, match=fragment):
        load_settings(env)


def test_request_ids() -> None:
    assert request_id("abc-1.2:3_x") == "abc-1.2:3_x"
    for bad in (None, "", "a" * 65, "<script>", "a b", "a\tb"):
        made = request_id(bad)
        assert made != bad
        assert len(made) == 16


def test_short_messages_stay_as_they_are() -> None:
    message = 'image with id "sha256:abc" does not exist: not found'
    assert bounded_message(message) == message
    labels = "valid fields are " + ", ".join(["Image Label"] * 80)
    assert bounded_message(labels) == labels


def test_long_echoes_are_cut() -> None:
    message = bounded_message('image with id "' + "a" * 60_000 + '" does not exist: not found')
    assert message.startswith('image with id "aaa')
    assert message.endswith("… does not exist: not found")
    assert len(message) < ECHO_MAX_CHARS + 60
    assert len(bounded_message("word " * 10_000)) <= 2049


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (http_exceptions.LineTooLong(b"GET /aaa", 65536), 414),
        (http_exceptions.LineTooLong(b"X-A: aaa", 8192), 431),
        (http_exceptions.BadHttpMessage("Too many headers received"), 431),
        (http_exceptions.BadHttpMethod("\x16\x03"), 400),
        (http_exceptions.InvalidHeader(b"a\x00b"), 400),
        (None, 400),
    ],
)
def test_parser_errors_are_named_without_the_bytes(exc: Exception | None, status: int) -> None:
    error = parser_error(exc)
    assert isinstance(error, web.HTTPException)
    assert error.status == status
    assert "aaa" not in (error.text or "")
    assert "\\x" not in (error.text or "")
