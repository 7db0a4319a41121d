"""GitHub App authentication: RS256 JWTs for the App, expiring installation tokens, and
personal tokens for test users (PyGithub token auth in batch jobs)."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

import jwt

from localhub.errors import GitHubError
from localhub.state import App, HubState, Token

JWT_MAX_LIFETIME = 600  # GitHub refuses an `exp` more than ten minutes ahead
CLOCK_DRIFT = 60
JWT_LEEWAY = 5  # seconds either side, for clocks a little apart


@dataclass(frozen=True)
class Caller:
    """Who a request acts for."""

    kind: str  # "app" (JWT) | "installation" | "user"
    login: str  # the App's "<slug>[bot]" for app and installation callers
    app_id: int | None = None
    installation_id: int | None = None

    @property
    def bucket(self) -> str:
        """Rate-limit bucket: installations and users each get their own."""
        return f"{self.kind}:{self.installation_id or self.app_id or self.login}"


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() in ("bearer", "token") and value.strip() else None


def verify_app_jwt(state: HubState, token: str) -> App:
    """Check an App JWT as GitHub does: RS256 signature, `iss` = app id, unexpired, short-lived."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
        app = state.apps.get(int(str(claims.get("iss"))))
    except (jwt.PyJWTError, ValueError, TypeError):
        raise GitHubError(401, "A JSON web token could not be decoded") from None
    if app is None:
        raise GitHubError(401, "Integration not found")
    try:
        # Times are judged below by the hub's clock, not PyJWT's (the wall clock).
        claims = jwt.decode(token, app.public_key_pem, algorithms=["RS256"],
                            options={"require": ["exp", "iat", "iss"], "verify_exp": False, "verify_iat": False})
        expires, issued = int(claims["exp"]), int(claims["iat"])
    except (jwt.PyJWTError, ValueError, TypeError):
        raise GitHubError(401, "A JSON web token could not be decoded") from None
    now = int(state.now_epoch())
    if expires < now - JWT_LEEWAY:
        raise GitHubError(401, "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires")
    if issued > now + JWT_LEEWAY:
        raise GitHubError(401, "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued")
    if expires - now > JWT_MAX_LIFETIME + CLOCK_DRIFT:
        raise GitHubError(401, "'Expiration time' claim ('exp') is too far in the future")
    return app


def issue_installation_token(state: HubState, installation_id: int, ttl: float) -> Token:
    token = Token("ghs_" + secrets.token_hex(18), "installation", state.now_epoch() + ttl, installation_id=installation_id)
    state.tokens[token.value] = token
    return token


def issue_personal_token(state: HubState, login: str) -> Token:
    token = Token("ghp_" + secrets.token_hex(18), "personal", None, login=login)
    state.tokens[token.value] = token
    return token


def identify(state: HubState, header: str | None, wants_jwt: bool) -> Caller:
    """The caller behind an Authorization header, or 401 as GitHub answers."""
    value = bearer(header)
    if value is None:
        raise GitHubError(401, "Requires authentication")
    if wants_jwt:
        if value in state.tokens:
            raise GitHubError(401, "A JSON web token could not be decoded")
        app = verify_app_jwt(state, value)
        return Caller("app", app.bot_login, app_id=app.id)
    token = state.tokens.get(value)
    if token is None or (token.expires_at is not None and token.expires_at < state.now_epoch()):
        raise GitHubError(401, "Bad credentials")
    if token.kind == "personal":
        assert token.login is not None
        return Caller("user", token.login)
    installation = state.installations.get(token.installation_id or 0)
    if installation is None:
        raise GitHubError(401, "Bad credentials")
    app = state.apps[installation.app_id]
    return Caller("installation", app.bot_login, app_id=app.id, installation_id=installation.id)
