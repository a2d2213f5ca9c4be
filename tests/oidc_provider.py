"""A real OpenID Connect provider on 127.0.0.1 for the single sign-on tests: a small Flask
app served over HTTP in a thread of the test process, with the discovery document, the
JWKS, an authorization endpoint that approves the configured user at once (PKCE required)
and a token endpoint that checks the client, the code, the redirect URI and the PKCE
verifier and issues an RS256-signed ID token. A test can make it misbehave: other claims in
the ID token (`tamper`), another signing key (`sign_with`)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

import requests
from flask import Flask, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server


def rsa_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"},
                               private=True)


class Provider:
    """The provider; `user` holds the claims of the person who "logs in" there."""

    def __init__(self, clock, *, client_id: str = "tracker-qn",
                 client_secret: str = "provider-secret-123"):
        self.clock = clock  # the app's FixedClock: tokens are stamped at its moment
        self.client_id, self.client_secret = client_id, client_secret
        self.key = rsa_key("qn-2026")
        self.sign_with: RSAKey | None = None
        self.user: dict = {}
        self.tamper: dict = {}
        self.codes: dict[str, dict] = {}
        self.authorize_requests: list[dict] = []
        self.token_requests: list[dict] = []
        self.server = make_server("127.0.0.1", 0, self._app(), threaded=True)
        self.issuer = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Provider:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)

    def settings(self) -> dict:
        return {"TRACKER_OIDC_ISSUER": self.issuer, "TRACKER_OIDC_CLIENT_ID": self.client_id,
                "TRACKER_OIDC_CLIENT_SECRET": self.client_secret}

    # --- the endpoints --------------------------------------------------------------------

    def _app(self) -> Flask:
        app = Flask("oidc_provider")

        @app.get("/.well-known/openid-configuration")
        def discovery():
            return jsonify({
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                          "client_secret_post"],
            })

        @app.get("/jwks")
        def jwks():
            return jsonify({"keys": [self.key.as_dict(private=False)]})

        @app.get("/authorize")
        def authorize():
            args = request.args.to_dict()
            self.authorize_requests.append(args)
            if (args.get("client_id") != self.client_id or args.get("response_type") != "code"
                    or "openid" not in args.get("scope", "").split()
                    or args.get("code_challenge_method") != "S256"
                    or not args.get("code_challenge") or not args.get("redirect_uri")):
                return jsonify({"error": "invalid_request"}), 400
            code = secrets.token_urlsafe(24)
            self.codes[code] = {"nonce": args.get("nonce"), "challenge": args["code_challenge"],
                                "redirect_uri": args["redirect_uri"], "user": dict(self.user)}
            query = urlencode({"code": code, "state": args.get("state", "")})
            return redirect(f"{args['redirect_uri']}?{query}")

        @app.post("/token")
        def token():
            form = request.form.to_dict()
            self.token_requests.append(form)
            auth = request.authorization
            client = (auth.username, auth.password) if auth else \
                (form.get("client_id"), form.get("client_secret"))
            if client != (self.client_id, self.client_secret):
                return jsonify({"error": "invalid_client"}), 401
            grant = self.codes.pop(form.get("code", ""), None)  # a code is used once
            verifier = form.get("code_verifier", "")
            challenge = base64.urlsafe_b64encode(
                hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if (grant is None or form.get("grant_type") != "authorization_code"
                    or form.get("redirect_uri") != grant["redirect_uri"]
                    or challenge != grant["challenge"]):
                return jsonify({"error": "invalid_grant"}), 400
            now = int(self.clock().timestamp())
            claims = {"iss": self.issuer, "aud": self.client_id, "iat": now,
                      "exp": now + 300, "nonce": grant["nonce"], **grant["user"]}
            claims.update(self.tamper)
            key = self.sign_with or self.key
            id_token = jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
            return jsonify({"access_token": secrets.token_urlsafe(24), "token_type": "Bearer",
                            "expires_in": 300, "id_token": id_token})

        return app


def start_login(client, next_url: str | None = None):
    """Press the login page's single sign-on button: the answer redirects to the provider."""
    return client.get("/login/sso" + (f"?{urlencode({'next': next_url})}" if next_url else ""))


def provider_answer(start_response) -> str:
    """Follow the redirect to the provider (a real HTTP request), which approves the user
    and redirects back: the callback's path and query on Tracker."""
    answer = requests.get(start_response.location, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    return f"{back.path}?{back.query}"


def expired(clock) -> dict:
    """ID token claims that ended an hour ago."""
    moment = int((clock() - timedelta(hours=2)).timestamp())
    return {"iat": moment, "exp": moment + 3600}
