"""pytest plugin of the live checks: options --aws-*, --require-live (filled in by the live-checks work)."""
