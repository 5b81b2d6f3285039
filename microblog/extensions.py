"""The web app's Flask extensions, created unbound and initialised by create_app().

The database handle `db` lives in microblog.database, below the services.
"""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf import CSRFProtect

from . import ratelimits  # noqa: F401  (registers the microblog+ storage schemes with limits)

migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
# Only the routes that ask for it are limited (login, sign-up); no global default.
limiter = Limiter(key_func=get_remote_address)
# Log-in, sign-up and the API's password grant share one allowance per address: three doors
# to the same passwords must not triple the guesses.
LOG_IN_SCOPE = "log-in"
