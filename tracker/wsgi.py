import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

application = get_wsgi_application()

# What is loaded by now (Django, the apps, the URL patterns, resolved here rather than by the
# first request) lives as long as the worker: moved out of the cyclic garbage collector's reach,
# so that its full passes, which stop every thread of the worker, walk only what requests leave
# behind. In a warmed worker at full size a full pass took 114 ms over about 164,000 objects;
# frozen, 20 ms (bench/RESULTS.md, "Garbage collection").
get_resolver().url_patterns  # noqa: B018 (imports every view module)
gc.freeze()
