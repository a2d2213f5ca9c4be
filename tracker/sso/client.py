"""The OpenID Connect client: Authlib's Flask client, built from the settings once per app
on first use (no network while the app is built), and the one call that turns the
provider's answer into the ID token's checked claims.

The flow is the authorization code flow with PKCE (S256). Authlib keeps the state, the
nonce and the code verifier in the Flask session between the redirect and the callback
(signed with SECRET_KEY) and refuses a callback whose state it did not issue. The ID token
is checked here: its signature against the provider's JWKS (fetched again once when a key
id is unknown), the algorithms the provider announces, `iss` equal to the configured
issuer, `aud` holding the client id (and `azp` when there are several), the nonce of this
login, and `exp`/`iat` at the moment `tracker.clock` gives, with a small leeway for the
clocks of two machines."""

from __future__ import annotations

from datetime import datetime

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from authlib.oidc.core import CodeIDToken
from flask import Flask, current_app
from joserfc.errors import JoseError
from requests import RequestException

EXTENSION = "tracker.sso"
NAME = "oidc"
# Seconds the provider's clock and ours may differ when `exp` and `iat` are judged.
LEEWAY = 60


class SsoFailure(Exception):
    """The provider's answer is not a valid login: `reason` says which check refused it
    (kept in the security event), never a secret."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def enabled(app: Flask | None = None) -> bool:
    """Whether single sign-on is configured: a client id and an issuer or a discovery URL."""
    config = (app or current_app).config
    return bool(config.get("TRACKER_OIDC_CLIENT_ID")
                and (config.get("TRACKER_OIDC_ISSUER") or config.get("TRACKER_OIDC_DISCOVERY_URL")))


def discovery_url(config) -> str:
    return config.get("TRACKER_OIDC_DISCOVERY_URL") or \
        config["TRACKER_OIDC_ISSUER"].rstrip("/") + "/.well-known/openid-configuration"


def oidc_client(app: Flask | None = None):
    """The app's registered client (Authlib's FlaskOAuth2App), made on first use."""
    app = app or current_app._get_current_object()
    oauth = app.extensions.get(EXTENSION)
    if oauth is None:
        config = app.config
        oauth = OAuth(app)
        oauth.register(
            NAME,
            client_id=config["TRACKER_OIDC_CLIENT_ID"],
            client_secret=config.get("TRACKER_OIDC_CLIENT_SECRET") or None,
            server_metadata_url=discovery_url(config),
            client_kwargs={"scope": config.get("TRACKER_OIDC_SCOPE") or "openid",
                           "code_challenge_method": "S256",
                           "default_timeout": config.get("TRACKER_OIDC_TIMEOUT", 10)},
        )
        app.extensions[EXTENSION] = oauth
    return getattr(oauth, NAME)


def authorize_redirect(redirect_uri: str):
    """The redirect to the provider's authorization endpoint; the state, the nonce and the
    PKCE verifier wait in the Flask session for the callback."""
    try:
        return oidc_client().authorize_redirect(redirect_uri)
    except (RequestException, ValueError, KeyError) as exc:
        raise SsoFailure(f"provider unreachable: {type(exc).__name__}") from exc


def _clocked_id_token(now: datetime):
    """Authlib's check of a code flow's ID token, judged at `now` (tracker.clock) rather
    than the process's own time."""
    moment = int(now.timestamp())

    class ClockedIDToken(CodeIDToken):
        def validate(self, now=None, leeway=0):
            super().validate(now=moment, leeway=leeway)

    return ClockedIDToken


def _claims_options(issuer: str, client_id: str) -> dict:
    """What Authlib checks of the ID token's claims besides the signature and the times:
    `iss` is the provider, `aud` holds this client (a token the provider made for another
    system of the province is not a login here, whatever its `azp` says). With several
    audiences `azp` must be present and name this client (CodeIDToken.validate_azp, with
    the client id Authlib passes as a parameter; `_check_azp` below holds the same rule
    whatever Authlib's version does)."""
    return {"iss": {"essential": True, "values": [issuer]},
            "aud": {"essential": True, "values": [client_id]}}


def _check_azp(claims: dict, client_id: str) -> None:
    audience = claims.get("aud")
    several = isinstance(audience, list) and len(audience) > 1
    if (several or "azp" in claims) and claims.get("azp") != client_id:
        raise SsoFailure("invalid_claim: Invalid claim 'azp'")


def checked_claims(*, now: datetime) -> dict:
    """Finish the login the provider sent back to the callback: the state checked against
    the session, the code exchanged (with the PKCE verifier) at the token endpoint, the ID
    token checked (module docstring). Returns its claims; raises SsoFailure."""
    client = oidc_client()
    issuer = current_app.config.get("TRACKER_OIDC_ISSUER")
    try:
        metadata = client.load_server_metadata()
        if issuer and metadata.get("issuer") != issuer:
            raise SsoFailure("discovery document names another issuer")
        token = client.authorize_access_token(
            claims_cls=_clocked_id_token(now), leeway=LEEWAY,
            claims_options=_claims_options(issuer or metadata.get("issuer"),
                                           current_app.config["TRACKER_OIDC_CLIENT_ID"]))
    except SsoFailure:
        raise
    except (AuthlibBaseError, JoseError) as exc:
        raise SsoFailure(_reason(exc)) from exc
    except (RequestException, ValueError, KeyError, TypeError) as exc:
        raise SsoFailure(f"provider answer unusable: {type(exc).__name__}") from exc
    claims = token.get("userinfo")
    if not claims:
        raise SsoFailure("no ID token")
    _check_azp(claims, current_app.config["TRACKER_OIDC_CLIENT_ID"])
    return dict(claims)


def _reason(exc: Exception) -> str:
    """The check that failed, in a few words for the security event."""
    error = getattr(exc, "error", None) or type(exc).__name__
    description = getattr(exc, "description", None)
    text = f"{error}: {description}" if description else str(error)
    return text[:200]
