"""Login form (CSRF-protected by Flask-WTF)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    # WTForms' own messages are English; these are the catalog's.
    username = StringField(_l("Username"), validators=[
        DataRequired(message=_l("Required.")),
        Length(max=64, message=_l("At most %(n)s characters.", n=64))])
    password = PasswordField(_l("Password"), validators=[
        DataRequired(message=_l("Required.")),
        Length(max=1024, message=_l("At most %(n)s characters.", n=1024))])
