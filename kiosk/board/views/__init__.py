"""The board's blueprints: ``public`` (start, board, a post, rides, thanks wall), ``posting``
(the form and the ticket), ``answers`` (reply, report), ``mine`` (a ticket holder's own post
or reply), ``moderate`` (coordinators' actions on posts), and ``panels`` (what the board
shows on the queue and on /stats). Read the request, call the rules,
render. May import ``core``, ``web`` and the board's rules."""

TEMPLATES = "../templates"
