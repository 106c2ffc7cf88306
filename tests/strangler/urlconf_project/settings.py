"""Settings for reading the URLconf only: no database, no middleware, nothing served."""

SECRET_KEY = "urlconf-project-test-key"  # a test project, never deployed
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS: list[str] = []
ROOT_URLCONF = "tests.strangler.urlconf_project.urls"
USE_TZ = True
