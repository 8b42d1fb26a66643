"""Tests of the conformance suite (features, steps, client, checks, results plugin)."""
