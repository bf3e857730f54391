"""Test tooling that users never run: the link-fault proxy."""
