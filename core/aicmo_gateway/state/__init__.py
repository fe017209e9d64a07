"""What the engine's state and history are stored in: the audit trail, the state files
``status`` and ``explain`` read, the health records they hold, and the outbox of writes
no provider performed (``state.outbox``).

Layer: above ``plugins``; imports only the records.
"""
