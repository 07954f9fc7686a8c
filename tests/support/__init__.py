"""Test helpers shared by the whole suite (the fake OpenAI-compatible server lives in ``fakeserver``)."""
