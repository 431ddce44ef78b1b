"""Our own events, pushed to customers' endpoints signed to the Standard Webhooks specification."""
