"""Two-factor login (xác thực hai lớp) with an authenticator app (TOTP, RFC 6238) and
one-time recovery codes: the one write path for enrolling, disabling and resetting it, and
for the second step of a login.

- The secret is kept encrypted (AES-GCM, key derived from SECRET_KEY by HKDF): a copy of
  the database alone does not give the codes. Changing SECRET_KEY makes the stored secrets
  unreadable: every user then enrols again (an admin resets them, or the CLI).
- A code is judged at the moment `tracker.clock` gives, within one 30-second step either
  side, and never twice: the step of the last accepted code is kept per user, and a code
  of that step or an earlier one is refused.
- Recovery codes: 10, 80 random bits each, shown once, kept as SHA-256, each spent once.
- A login whose password was right waits in a `LoginChallenge` for a few minutes; 5 wrong
  codes end it (back to the password), and more than `TRACKER_LOGIN_MAX_FAILURES` × 2
  wrong codes for a user within `TRACKER_LOGIN_LOCK_MINUTES` pause the second step for
  that user. Each attempt takes the user's row lock, so parallel guesses are counted one
  after another on PostgreSQL too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update

from tracker.audit.models import SecurityEvent
from tracker.audit.security import SecurityEventKind, record_security
from tracker.auth.models import Role, User
from tracker.auth.passwords import local_passwords, verify_password
from tracker.auth.sessions import end_all_sessions, token_hash
from tracker.auth.two_factor_models import LoginChallenge, RecoveryCode, SecondFactor
from tracker.errors import Conflict, Forbidden, InvalidInput
from tracker.extensions import db
from tracker.scope import may_reset_second_factor, must_use_second_factor, require_role
from tracker.sealing import seal, unseal

ISSUER = "Tracker"
RECOVERY_CODES = 10
CHALLENGE_MINUTES = 5
CHALLENGE_FAILURES = 5  # wrong codes before a login goes back to the password step
TOTP_DETAIL = "totp"  # the detail of a failed second step (login_failed)
_CODE = re.compile(r"^[0-9]{6}$")
_RECOVERY = re.compile(r"^[A-Z2-7]{16}$")


# --- the secret, encrypted at rest ----------------------------------------------------------


_INFO = b"tracker second factor v1"


def _seal(secret: str) -> str:
    return seal(secret.encode(), info=_INFO, aad=b"totp")


def _open(sealed: str) -> str | None:
    """The secret, or None if SECRET_KEY has changed since it was sealed."""
    opened = unseal(sealed, info=_INFO, aad=b"totp")
    return opened.decode() if opened is not None else None


# --- reading ---------------------------------------------------------------------------------


def factor_of(user: User) -> SecondFactor | None:
    return db.session.get(SecondFactor, user.id)


def is_enrolled(user: User) -> bool:
    factor = factor_of(user)
    return factor is not None and factor.confirmed_at is not None


def needs_enrolment(user: User) -> bool:
    """An admin (when the deployment requires it) who has no authenticator app yet: every
    page but the enrolment sends them there."""
    return must_use_second_factor(user) and not is_enrolled(user)


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(select(func.count()).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)))


def provisioning_uri(user: User, factor: SecondFactor) -> str:
    """What the QR code holds: otpauth://totp/Tracker:username?secret=…&issuer=Tracker."""
    return pyotp.TOTP(secret_text(factor)).provisioning_uri(name=user.username,
                                                            issuer_name=ISSUER)


def secret_text(factor: SecondFactor) -> str:
    return _open(factor.secret) or ""


def grouped(secret: str) -> str:
    """The secret in groups of four, as a person types it into an app."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


# --- codes ---------------------------------------------------------------------------------


def _normalise(code) -> str:
    return re.sub(r"[\s-]", "", code).upper() if isinstance(code, str) else ""


def _recovery_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _totp_step(factor: SecondFactor, code: str, now: datetime) -> int | None:
    """The step of `code` if it is the code of the moment `now` (±1 step) and newer than
    the last accepted one; None otherwise."""
    secret = _open(factor.secret)
    if secret is None or not _CODE.match(code):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    found = None
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    if found is None or (factor.last_step is not None and found <= factor.last_step):
        return None
    return found


def _spend_recovery_code(user: User, code: str, now: datetime) -> bool:
    """Spend one unused recovery code; one statement, so it is spent once however many
    requests race for it."""
    if not _RECOVERY.match(code):
        return False
    spent = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id,
               RecoveryCode.code_hash == _recovery_hash(code),
               RecoveryCode.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False))
    return spent.rowcount == 1


def _locked_factor(user: User) -> SecondFactor | None:
    """The user's factor, locked for this transaction and freshly read: one code check per
    user at a time (the replay guard and the failure count depend on it)."""
    return db.session.scalar(
        select(SecondFactor).where(SecondFactor.user_id == user.id)
        .with_for_update().execution_options(populate_existing=True))


def _accept(factor: SecondFactor, code, now: datetime, *, recovery: bool) -> str | None:
    """Check a code for a locked factor: "totp" or "recovery" if it is accepted (and
    spent), None otherwise."""
    code = _normalise(code)
    step = _totp_step(factor, code, now)
    if step is not None:
        factor.last_step = step
        return "totp"
    if recovery and _spend_recovery_code(factor.user, code, now):
        return "recovery"
    return None


def _new_recovery_codes(user: User, now: datetime) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [base64.b32encode(secrets.token_bytes(10)).decode() for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(c), created_at=now)
                       for c in codes)
    return ["-".join(c[i:i + 4] for i in range(0, 16, 4)) for c in codes]


def _wrong_code() -> InvalidInput:
    message = _("The code is not right, or it has already been used.")
    return InvalidInput(message, {"code": [message]})


# --- enrolling, disabling, resetting -------------------------------------------------------


def begin_enrolment(user: User, *, now: datetime) -> SecondFactor:
    """The factor the user is about to scan: a new secret, or the one they were shown and
    have not confirmed yet (reloading the page keeps the QR code)."""
    factor = factor_of(user)
    if factor is not None and factor.confirmed_at is not None:
        raise Conflict(_("Two-factor login is already on."))
    if factor is not None and _open(factor.secret) is not None:
        return factor
    if factor is None:
        factor = SecondFactor(user_id=user.id, user=user)
        db.session.add(factor)
    factor.secret = _seal(pyotp.random_base32())
    factor.created_at = now
    factor.last_step = None
    db.session.flush()
    return factor


def confirm_enrolment(user: User, code, *, now: datetime) -> list[str]:
    """Turn two-factor login on with the first code the app shows; returns the recovery
    codes, to be shown once."""
    factor = _locked_factor(user)
    if factor is None or factor.confirmed_at is not None:
        raise Conflict(_("Scan the QR code first."))
    if _accept(factor, code, now, recovery=False) is None:
        raise _wrong_code()
    factor.confirmed_at = now
    codes = _new_recovery_codes(user, now)
    record_security(SecurityEventKind.TWO_FACTOR_ENABLED, at=now, actor=user, user=user)
    return codes


def regenerate_recovery_codes(user: User, code, *, now: datetime) -> list[str]:
    """New recovery codes (the old ones stop working), with a current code from the app."""
    factor = _locked_factor(user)
    if factor is None or factor.confirmed_at is None:
        raise Conflict(_("Two-factor login is off."))
    if _accept(factor, code, now, recovery=False) is None:
        raise _wrong_code()
    record_security(SecurityEventKind.TWO_FACTOR_ENABLED, at=now, actor=user, user=user,
                    detail="recovery codes regenerated")
    return _new_recovery_codes(user, now)


def _remove(user: User) -> None:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(delete(LoginChallenge).where(LoginChallenge.user_id == user.id))
    db.session.execute(delete(SecondFactor).where(SecondFactor.user_id == user.id))


def disable(user: User, *, code=None, password=None, now: datetime) -> None:
    """The user turns two-factor login off, proving it is them with a current code (or a
    recovery code) or their password. An admin who must use it is sent to enrol again."""
    factor = _locked_factor(user)
    if factor is None or factor.confirmed_at is None:
        raise Conflict(_("Two-factor login is off."))
    by_password = local_passwords() and isinstance(password, str) and password != "" and \
        verify_password(user.password_hash, password)
    if not by_password and _accept(factor, code, now, recovery=True) is None:
        message = _("Enter a current code from your app, or your password.")
        raise InvalidInput(message, {"code": [message]})
    _remove(user)
    record_security(SecurityEventKind.TWO_FACTOR_DISABLED, at=now, actor=user, user=user,
                    detail="by password" if by_password else "by code")


def reset(actor: User | None, user: User, *, now: datetime) -> None:
    """An admin (or the operator at the command line, `actor` None) removes a user's
    authenticator app and recovery codes — a lost phone. The user's sessions end; at the
    next login they log in with their password and, if they must, enrol again."""
    if actor is not None:
        require_role(actor, Role.ADMIN)
        if not may_reset_second_factor(actor, user):
            raise Forbidden(_("You cannot reset this account's two-factor login."))
    if factor_of(user) is None:
        raise Conflict(_("Two-factor login is off for this account."))
    _remove(user)
    end_all_sessions(user)
    record_security(SecurityEventKind.TWO_FACTOR_DISABLED, at=now, actor=actor, user=user,
                    detail="reset by an admin" if actor is not None else "reset by the operator")


# --- the second step of a login --------------------------------------------------------------


def second_step_due(user: User) -> bool:
    """Whether the login of `user`, whose password was right, waits for a code."""
    return is_enrolled(user)


def start_challenge(user: User, next_url: str | None, *, now: datetime) -> str:
    """A login waiting for its code; returns the raw token the browser keeps."""
    db.session.execute(delete(LoginChallenge).where(LoginChallenge.expires_at <= now))
    raw = secrets.token_urlsafe(32)
    db.session.add(LoginChallenge(
        token_hash=token_hash(raw), user_id=user.id, created_at=now,
        expires_at=now + timedelta(minutes=CHALLENGE_MINUTES), next_url=(next_url or "")[:500]))
    return raw


def load_challenge(raw: str | None, *, now: datetime) -> LoginChallenge | None:
    if not isinstance(raw, str) or not raw:
        return None
    challenge = db.session.scalar(
        select(LoginChallenge).where(LoginChallenge.token_hash == token_hash(raw)))
    if challenge is None or challenge.expires_at <= now or not challenge.user.active:
        return None
    return challenge


@dataclass(frozen=True)
class Answer:
    """What became of a code typed at the second step."""

    passed: bool
    again: bool = False  # wrong, may try again
    throttled: bool = False  # too many wrong codes for this user lately: wait


def _recent_failures(user: User, now: datetime) -> int:
    since = now - timedelta(minutes=current_app.config["TRACKER_LOGIN_LOCK_MINUTES"])
    return db.session.scalar(select(func.count()).where(
        SecurityEvent.user_id == user.id, SecurityEvent.kind == SecurityEventKind.LOGIN_FAILED,
        SecurityEvent.detail == TOTP_DETAIL, SecurityEvent.at > since))


def answer_challenge(challenge: LoginChallenge, code, *, now: datetime) -> Answer:
    """Judge the code typed for a waiting login. A right one ends the challenge (the
    caller starts the session); a wrong one is recorded (`login_failed`, detail "totp")
    and counted: the fifth ends the challenge. The caller commits in every case."""
    user = challenge.user
    factor = _locked_factor(user)
    # Read again under the lock: a parallel attempt may have counted or ended it.
    challenge = db.session.get(LoginChallenge, challenge.id, populate_existing=True)
    if challenge is None:
        return Answer(passed=False)
    if factor is None or factor.confirmed_at is None:  # reset meanwhile
        db.session.delete(challenge)
        return Answer(passed=False)
    limit = current_app.config["TRACKER_LOGIN_MAX_FAILURES"] * 2
    if _recent_failures(user, now) >= limit:
        record_security(SecurityEventKind.LOGIN_THROTTLED, at=now, user=user,
                        detail=TOTP_DETAIL)
        return Answer(passed=False, throttled=True)
    accepted = _accept(factor, code, now, recovery=True)
    if accepted is not None:
        db.session.delete(challenge)
        if accepted == "recovery":
            record_security(SecurityEventKind.RECOVERY_CODE_USED, at=now, actor=user,
                            user=user, detail=f"{recovery_codes_left(user)} left")
        return Answer(passed=True)
    record_security(SecurityEventKind.LOGIN_FAILED, at=now, user=user, detail=TOTP_DETAIL)
    challenge.failures += 1
    if challenge.failures >= CHALLENGE_FAILURES:
        db.session.delete(challenge)
        return Answer(passed=False)
    return Answer(passed=False, again=True)
