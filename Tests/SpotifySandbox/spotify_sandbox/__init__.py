"""Spotify sandbox: a local stand-in for the Spotify Web API and accounts service.

Standard library only. See ``sandbox.py`` next to this package for the command line and
SPEC §6/§9 for the contract it implements.
"""
