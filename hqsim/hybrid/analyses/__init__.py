"""Analyses of hybrid programs: facts computed as frozen dataclasses; a program is never changed."""
