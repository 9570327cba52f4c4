"""marshmallow schemas of the public contract: requests in, envelopes' `data` out."""
