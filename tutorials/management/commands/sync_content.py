"""``manage.py sync_content``: bring content/ into the database."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tutorials import content, metrics


class Command(BaseCommand):
    help = (
        "Sync the lessons in content/ into the database: create and update changed "
        "lessons, skip unchanged ones, unpublish lessons whose file is gone."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Validate every file (and run every code sample) and write nothing.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Overwrite lessons edited in admin with their file's version.",
        )
        parser.add_argument(
            "--content-dir",
            type=Path,
            default=None,
            help="Directory to read (default: settings.CONTENT_DIR).",
        )

    def handle(self, *args, check=False, force=False, content_dir=None, **options):
        verbosity = options["verbosity"]
        directory = content_dir or settings.CONTENT_DIR
        report = content.sync(
            directory,
            force=force,
            dry_run=check,
            check_samples=content.check_lesson_samples if check else None,
        )
        if not check:
            metrics.record_sync(
                {
                    "created": report.created,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                    "unpublished": report.unpublished,
                    "conflicts": len(report.conflicts),
                    "failed": len({error.path for error in report.errors}),
                }
            )
        for error in report.errors:
            self.stderr.write(self.style.ERROR(str(error)))
        for conflict in report.conflicts:
            self.stderr.write(self.style.WARNING(f"conflict: {conflict}"))
        for kept in report.kept:
            self.stdout.write(self.style.WARNING(kept))
        if verbosity >= 1:
            prefix = "check: would be " if check else ""
            self.stdout.write(prefix + report.summary())
        if report.errors:
            files = len({error.path for error in report.errors})
            raise CommandError(f"{len(report.errors)} error(s) in {files} file(s); see above.")
        if report.conflicts:
            raise CommandError(f"{len(report.conflicts)} conflict(s); see above.")
