"""Root pytest configuration of a checkout: the suite's plugin (an installed suite loads it by entry point)."""

pytest_plugins = ["core.plugin"]
