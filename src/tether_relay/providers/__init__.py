"""Provider adapters: the only code that knows a vendor's wire format. Each turns vendor responses and
errors into our dataclasses and error types (providers/base.py) at this boundary."""
