"""Security events: what happened that an operator may need to look at later."""
