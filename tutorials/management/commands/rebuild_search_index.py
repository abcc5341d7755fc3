"""``manage.py rebuild_search_index``: rebuild the search index from the lessons."""

from django.core.management.base import BaseCommand, CommandError

from tutorials import pagecache, search


class Command(BaseCommand):
    help = (
        "Rebuild the full-text search index from the published lessons in the "
        "database, in one transaction, and report the counts. Safe to run again: "
        "the result is the same index. Use it after loaddata, a bulk change that "
        "sent no signals, or restoring a backup."
    )

    def handle(self, *args, **options):
        report = search.rebuild(indexed_by="rebuild_search_index")
        # Pages show search results and "in search" state: cached ones are now stale.
        pagecache.bump_content_version()
        for error in report.errors:
            self.stderr.write(self.style.ERROR(error))
        if options["verbosity"] >= 1:
            self.stdout.write(
                f"Search index rebuilt ({search.backend().__name__.rsplit('_', 1)[-1]}): "
                + report.summary()
            )
        if report.errors:
            raise CommandError(f"{len(report.errors)} lesson(s) could not be indexed; see above.")
