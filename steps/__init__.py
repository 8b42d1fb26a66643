"""The conformance suite: step definitions by domain for the scenarios in ../features."""
