"""Single sign-on (đăng nhập một lần) with the province's OpenID Connect provider: the
client (`client`: the authorization code flow with PKCE, state and nonce, the ID token
checked) and who a login names (`service`: an existing Tracker user, never a new one).
docs/sso.md has the design and the settings."""
