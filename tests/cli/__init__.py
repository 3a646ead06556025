"""Tests of the dicomnp command."""
