"""pytest plugin writing reports/ at the end of a run (filled in by the reports work)."""
