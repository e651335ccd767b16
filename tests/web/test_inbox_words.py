"""The inbox lists each alert by the subject of its e-mail, rendered alone for speed: it must be exactly the
subject the full rendering gives, for every kind of message and every language."""

from __future__ import annotations

import pytest

from exchange.alerts import wording
from exchange.bench.wording import sample_messages


@pytest.mark.parametrize("language", wording.LANGUAGES)
def test_the_subject_alone_is_the_subject_of_the_message(language: str) -> None:
    for message in sample_messages():
        assert wording.subject(message, language) == wording.render(message, language).subject
