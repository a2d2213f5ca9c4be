"""Bare extension instances, bound to the app in `create_app`.

This module imports nothing from the application, so every other module may import it
without creating an import cycle.
"""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, Select
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so that migrations can alter them on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# The session's info key holding the engine its plain reads may use (tracker.replica).
READS = "reads"


class Session(FlaskSession):
    """A session whose plain SELECTs go to `info[READS]` (a replica's engine, set for the
    requests whose reads may lag, tracker.replica) until it writes anything: a flush, a
    SELECT … FOR UPDATE, raw SQL and every statement after a write go to the primary."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        reads = self.info.get(READS)
        if reads is not None and bind is None and not self.info.get("wrote") \
                and isinstance(clause, Select) and clause._for_update_arg is None:
            return reads
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


db = SQLAlchemy(model_class=Base, session_options={"class_": Session})
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# Request rate limits (POST /login per address, the API per token): settings in
# tracker.config, the limits on the views (tracker.web.auth, tracker.api.base).
limiter = Limiter(key_func=get_remote_address)
