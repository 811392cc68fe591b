"""WWW-Authenticate parsing: quoted values, commas inside quotes, several challenges."""

from __future__ import annotations

from app.scanner.registry.challenges import Challenge, parse_challenges


def test_docker_hub_bearer_challenge() -> None:
    header = (
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/nginx:pull"'
    )
    assert parse_challenges([header]) == [
        Challenge(
            "bearer",
            {
                "realm": "https://auth.docker.io/token",
                "service": "registry.docker.io",
                "scope": "repository:library/nginx:pull",
            },
        )
    ]


def test_comma_inside_quotes_and_spaces_around_separators() -> None:
    header = (
        'Bearer realm = "https://a/token" , scope="repository:x/y:pull,push", '
        "error=insufficient_scope"
    )
    [challenge] = parse_challenges([header])
    assert challenge.params == {
        "realm": "https://a/token",
        "scope": "repository:x/y:pull,push",
        "error": "insufficient_scope",
    }


def test_several_challenges_in_one_header_and_across_headers() -> None:
    challenges = parse_challenges(
        ['Basic realm="registry", Bearer realm="https://t/token",service="s"', "Negotiate"]
    )
    assert [c.scheme for c in challenges] == ["basic", "bearer", "negotiate"]
    assert challenges[0].params == {"realm": "registry"}
    assert challenges[1].params == {"realm": "https://t/token", "service": "s"}
    assert challenges[2].params == {}


def test_escapes_case_and_token68() -> None:
    challenges = parse_challenges(
        ['BASIC Realm="a \\"quoted\\" realm"', "Negotiate abc123==, Basic"]
    )
    assert challenges[0] == Challenge("basic", {"realm": 'a "quoted" realm'})
    assert [c.scheme for c in challenges[1:]] == ["negotiate", "basic"]


def test_garbage_gives_no_crash() -> None:
    assert parse_challenges(["", '"', ",,,", "=x"]) == []
