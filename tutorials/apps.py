from django.apps import AppConfig


class TutorialsConfig(AppConfig):
    name = "tutorials"
    verbose_name = "Tutorials"

    def ready(self) -> None:
        # Receivers are connected by importing the modules that define them.
        from . import autoreload, signals  # noqa: F401
        from .runner import checks  # noqa: F401  (registers the sandbox system check)
