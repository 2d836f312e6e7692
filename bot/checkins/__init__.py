"""Weekly reflection check-ins: who is due, sending exactly once, recording answers."""
