"""Plumbing shared by web/, rules/, jobs/ and reports/: settings and client factories."""
