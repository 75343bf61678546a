"""Django loads an app's models from `<app>.models`; ours live in `detainees.domain.models`."""

from detainees.domain.models import *  # noqa: F403
