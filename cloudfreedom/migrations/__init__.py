"""Migration modules replacing a third-party app's own (settings.MIGRATION_MODULES)."""
