"""
Static files storage: whitenoise's hashed, compressed manifest storage that also
rewrites ES module imports (``import ... from "./run-client.js"``) to the hashed
names, so a module and the modules it imports are all cached immutably.
"""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    support_js_module_import_aggregation = True
