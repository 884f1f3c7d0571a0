"""Developer machine: `make run`."""

from cloudfreedom.settings.base import *  # noqa: F403
from cloudfreedom.settings.base import env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
