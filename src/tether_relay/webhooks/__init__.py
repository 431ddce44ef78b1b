"""Provider webhooks: verify the sender on the raw request, record the event once, apply it to the call."""
