"""One flask-smorest Blueprint per resource. Views parse, call rules/, and return data."""
