"""Signals that let higher packages react to enrolment moves without being imported here."""
from blinker import Namespace

_signals = Namespace()

#: Sent, inside the mover's transaction, when an enrolment stops holding a place
#: (withdrawn, rejected, cancelled), with the enrolment as sender. The schedule gives
#: back the person's session places (a seat on the site-visit bus).
place_lost = _signals.signal("place-lost")
