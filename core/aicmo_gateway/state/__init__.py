"""What the engine's state and history are stored in: the audit trail, the state files
``status`` and ``explain`` read, and the health records they hold.

Layer: above ``plugins``; imports only the records.
"""
