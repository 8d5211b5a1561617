"""Fixtures for the autograder's regression suite: a course tree, crafted submissions."""
