"""Passes on hybrid programs: pure transformations, program in, program out."""
