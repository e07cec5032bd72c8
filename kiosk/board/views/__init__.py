"""The board's blueprints: ``public`` (start, board, a post, rides, thanks wall), ``posting``
(the form and the ticket), ``answers`` (reply, report), ``mine`` (a ticket holder's own post
or reply) and ``moderate`` (coordinators' actions on posts). Read the request, call the rules,
render. May import ``core``, ``web`` and the board's rules."""

TEMPLATES = "../templates"
