"""Every scenario of every feature file, as one test each."""
from pytest_bdd import scenarios

scenarios("../features")
