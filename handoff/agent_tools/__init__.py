"""The console's agent tools as actions: notes, canned responses, resolutions, transfers.

resolutions: the state changes (do_add_note, do_*_canned, do_request_resolution,
do_decide_resolution, do_transfer), each one transaction with its audit entry, then its
events. resolution_actions and resolution_fields: the company's actions file, checked at
startup; approvals: a supervisor's approval card; fulfilment: the one door to the booking
and payment systems; canned_seed: the demo company's canned responses.
Layer: under handoff.web; may import handoff.conversations and every room below it.
HTTP parsing is handoff.web.views.console's; claim, reply, resolve are conversations'.
"""
