"""pandas analytics over event metadata (DESIGN §8). Never imports flask.

Empty until the analytics issue lands.
"""
