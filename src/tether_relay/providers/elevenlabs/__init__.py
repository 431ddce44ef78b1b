"""ElevenLabs Agents Platform (Conversational AI). Wire formats: shared/reference/providers.md §2, from
elevenlabs-python `types/get_conversation_response_model.py` and friends."""
