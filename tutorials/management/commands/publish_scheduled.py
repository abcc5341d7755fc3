"""``manage.py publish_scheduled``: publish the lessons whose publish_at has come."""

from django.core.management.base import BaseCommand

from tutorials.scheduling import publish_due


class Command(BaseCommand):
    help = (
        "Publish every lesson whose publish_at has come (for a cron job; the site also "
        "checks every few seconds while it serves requests). Safe to run at any time."
    )

    def handle(self, *args, **options):
        published = publish_due()
        if options["verbosity"] >= 1:
            for tutorial in published:
                self.stdout.write(f"published {tutorial.get_absolute_url()}")
            self.stdout.write(f"{len(published)} lesson(s) published.")
