"""Twilio Programmable Voice (2010 API) and Voice Intelligence (v2). Wire formats: shared/reference/
providers.md §1, from twilio-oai `twilio_api_v2010.json` and `twilio_intelligence_v2.json`."""
