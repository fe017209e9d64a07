"""The Maildir sender writes real message files; the fetcher returns each one exactly once."""

from __future__ import annotations

import mailbox
import os
import time
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from aicmo_gateway.builtin.maildir import MaildirReplyFetcher, MaildirSender
from aicmo_gateway.errors import InvalidInput, Unavailable
from aicmo_gateway.ports import Attachment, EmailMessage, Reply

SECOND = 1_000_000_000
BASE = 1_700_000_000 * SECOND


def message(**overrides: object) -> EmailMessage:
    fields: dict[str, object] = {
        "to": "ann@example.com",
        "subject": "Hello",
        "text": "Hi Ann",
        "sender": "sales@example.com",
    }
    fields.update(overrides)
    return EmailMessage(**fields)  # type: ignore[arg-type]


def deliver(box: Path, subject: str, *, at_ns: int, raw: bytes | None = None) -> str:
    """Deliver a message the way another mail program would, with a chosen file time."""
    data = raw if raw is not None else f"From: x@example.com\nSubject: {subject}\n\nbody\n"
    for sub in ("tmp", "new", "cur"):
        (box / sub).mkdir(parents=True, exist_ok=True)
    md = mailbox.Maildir(box, create=False)
    key = md.add(data.encode() if isinstance(data, str) else data)
    os.utime(box / "new" / key, ns=(at_ns, at_ns))
    return key


def subjects(replies: tuple[Reply, ...]) -> list[str]:
    return [reply.subject for reply in replies]


# -- sending -----------------------------------------------------------------------


def test_a_sent_message_is_a_file_in_new_that_the_stdlib_mailbox_reads(tmp_path: Path) -> None:
    receipt = MaildirSender(tmp_path / "out").send(message(subject="Quarterly offer"))
    (stored,) = mailbox.Maildir(tmp_path / "out", factory=None, create=False)
    assert stored["Subject"] == "Quarterly offer"
    assert stored["Message-ID"] == receipt.message_id
    assert receipt.location is not None
    assert Path(receipt.location).parent == tmp_path / "out" / "new"


def test_the_receipt_accepts_every_recipient_and_reports_performed(tmp_path: Path) -> None:
    msg = message(cc="cat@example.com", bcc="bob@example.com")
    receipt = MaildirSender(tmp_path / "out").send(msg)
    assert receipt.accepted == ("ann@example.com", "cat@example.com", "bob@example.com")
    assert receipt.performed is True


def test_the_written_file_has_no_bcc(tmp_path: Path) -> None:
    receipt = MaildirSender(tmp_path / "out").send(message(bcc="secret@example.com"))
    assert receipt.location is not None
    assert b"secret@example.com" not in Path(receipt.location).read_bytes()


def test_the_messages_own_message_id_is_kept(tmp_path: Path) -> None:
    receipt = MaildirSender(tmp_path / "out").send(message(message_id="<own@example.com>"))
    assert receipt.message_id == "<own@example.com>"


def test_generated_message_ids_use_the_configured_domain(tmp_path: Path) -> None:
    receipt = MaildirSender(tmp_path / "out", domain="mail.example.com").send(message())
    assert receipt.message_id is not None
    assert receipt.message_id.endswith("@mail.example.com>")


def test_a_message_without_sender_gets_the_default_sender(tmp_path: Path) -> None:
    sender = MaildirSender(tmp_path / "out", default_sender="robot@example.com")
    receipt = sender.send(message(sender=None))
    assert receipt.location is not None
    parsed = BytesParser(policy=policy.default).parsebytes(Path(receipt.location).read_bytes())
    assert parsed["From"] == "robot@example.com"


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("localhost", "aicmo-gateway@localhost.localdomain"),
        ("mail.test", "aicmo-gateway@mail.test"),
    ],
)
def test_without_any_sender_the_from_address_is_a_valid_one_in_the_domain(
    tmp_path: Path, domain: str, expected: str
) -> None:
    sender = MaildirSender(tmp_path / "out", domain=domain)
    receipt = sender.send(message(sender=None))
    assert receipt.location is not None
    parsed = BytesParser(policy=policy.default).parsebytes(Path(receipt.location).read_bytes())
    assert parsed["From"] == expected


def test_sending_the_same_message_id_twice_delivers_one_file(tmp_path: Path) -> None:
    sender = MaildirSender(tmp_path / "out")
    first = sender.send(message(message_id="<retry@example.com>"))
    second = sender.send(message(message_id="<retry@example.com>"))
    assert len(mailbox.Maildir(tmp_path / "out", create=False)) == 1
    assert second.location == first.location


def test_a_sender_killed_between_the_file_and_its_record_does_not_deliver_it_twice(
    tmp_path: Path,
) -> None:
    from aicmo_gateway.builtin.maildir import INDEX_FILE

    box = tmp_path / "box"
    sender = MaildirSender(box)
    first = sender.send(
        EmailMessage(to="a@example.com", subject="Hi", text="x", message_id="<one@example.com>")
    )
    # what a sender killed after writing the file, before recording its key, leaves behind
    index = box / INDEX_FILE
    index.write_text("<one@example.com>\t\n", encoding="utf-8")
    again = sender.send(
        EmailMessage(to="a@example.com", subject="Hi", text="x", message_id="<one@example.com>")
    )
    assert len(os.listdir(box / "new")) == 1
    assert again.location == first.location
    assert index.read_text(encoding="utf-8").splitlines()[-1].startswith("<one@example.com>\t")
    # a message whose intent was recorded but whose file never appeared is delivered
    index.write_text("<two@example.com>\t\n", encoding="utf-8")
    sender.send(
        EmailMessage(to="a@example.com", subject="Hi", text="x", message_id="<two@example.com>")
    )
    assert len(os.listdir(box / "new")) == 2


def test_attachments_are_in_the_written_file(tmp_path: Path) -> None:
    pdf = Attachment("offer.pdf", b"%PDF-1.4")
    MaildirSender(tmp_path / "out").send(message(attachments=[pdf]))
    (stored,) = mailbox.Maildir(tmp_path / "out", factory=None, create=False)
    parsed = BytesParser(policy=policy.default).parsebytes(stored.as_bytes())
    (attached,) = parsed.iter_attachments()
    assert attached.get_filename() == "offer.pdf"
    assert attached.get_content() == b"%PDF-1.4"


def test_a_path_below_a_regular_file_is_unavailable_and_named(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(Unavailable, match="file/maildir"):
        MaildirSender(blocker / "maildir").send(message())


def test_check_fails_for_a_path_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(Unavailable):
        MaildirSender(blocker / "maildir").check()


def test_check_creates_the_maildir_when_allowed(tmp_path: Path) -> None:
    MaildirSender(tmp_path / "out").check()
    assert all((tmp_path / "out" / sub).is_dir() for sub in ("tmp", "new", "cur"))


def test_a_missing_maildir_is_unavailable_when_creating_is_off(tmp_path: Path) -> None:
    with pytest.raises(Unavailable, match="does not exist"):
        MaildirSender(tmp_path / "absent", create=False).send(message())


# -- round trip --------------------------------------------------------------------


def test_a_sent_message_is_fetched_back_with_non_ascii_text(tmp_path: Path) -> None:
    sent = message(subject="Grüße aus Köln ☕", text="Schöne Grüße, Jörg", html="<p>Grüße</p>")
    receipt = MaildirSender(tmp_path / "box").send(sent)
    batch = MaildirReplyFetcher(tmp_path / "box").fetch_replies(None)
    (reply,) = batch.replies
    assert reply.subject == "Grüße aus Köln ☕"
    assert reply.text.strip() == "Schöne Grüße, Jörg"
    assert reply.message_id == receipt.message_id
    assert reply.warnings == ()


# -- fetching ----------------------------------------------------------------------


def test_the_first_fetch_returns_every_message_oldest_first(tmp_path: Path) -> None:
    deliver(tmp_path, "second", at_ns=BASE + 2 * SECOND)
    deliver(tmp_path, "first", at_ns=BASE + 1 * SECOND)
    batch = MaildirReplyFetcher(tmp_path).fetch_replies(None)
    assert subjects(batch.replies) == ["first", "second"]
    assert batch.has_more is False


def test_a_reply_carries_its_key_and_delivery_time(tmp_path: Path) -> None:
    key = deliver(tmp_path, "one", at_ns=BASE)
    (reply,) = MaildirReplyFetcher(tmp_path).fetch_replies(None).replies
    assert reply.source_id == key
    assert reply.received_at == datetime.fromtimestamp(BASE / SECOND, UTC)


def test_nothing_is_returned_twice_and_the_cursor_stays_when_nothing_is_new(
    tmp_path: Path,
) -> None:
    deliver(tmp_path, "one", at_ns=BASE)
    fetcher = MaildirReplyFetcher(tmp_path)
    first = fetcher.fetch_replies(None)
    again = fetcher.fetch_replies(first.cursor)
    assert again.replies == ()
    assert again.cursor == first.cursor


def test_messages_delivered_after_the_cursor_are_returned(tmp_path: Path) -> None:
    deliver(tmp_path, "old", at_ns=BASE)
    fetcher = MaildirReplyFetcher(tmp_path)
    cursor = fetcher.fetch_replies(None).cursor
    deliver(tmp_path, "new", at_ns=BASE + 60 * SECOND)
    assert subjects(fetcher.fetch_replies(cursor).replies) == ["new"]


def test_messages_with_the_same_file_time_are_each_returned_once(tmp_path: Path) -> None:
    for name in ("a", "b", "c", "d"):
        deliver(tmp_path, name, at_ns=BASE)
    fetcher = MaildirReplyFetcher(tmp_path, batch_size=1)
    seen: list[str] = []
    cursor = None
    for _ in range(6):
        batch = fetcher.fetch_replies(cursor)
        seen += subjects(batch.replies)
        cursor = batch.cursor
    assert sorted(seen) == ["a", "b", "c", "d"]


def test_a_tie_delivered_after_the_cursor_is_still_returned(tmp_path: Path) -> None:
    deliver(tmp_path, "a", at_ns=BASE)
    fetcher = MaildirReplyFetcher(tmp_path)
    cursor = fetcher.fetch_replies(None).cursor
    deliver(tmp_path, "b", at_ns=BASE)
    assert subjects(fetcher.fetch_replies(cursor).replies) == ["b"]


def test_a_late_delivery_within_the_grace_window_is_returned(tmp_path: Path) -> None:
    deliver(tmp_path, "newer", at_ns=BASE + 3 * SECOND)
    fetcher = MaildirReplyFetcher(tmp_path, grace_seconds=10)
    cursor = fetcher.fetch_replies(None).cursor
    deliver(tmp_path, "written earlier, moved in later", at_ns=BASE + 1 * SECOND)
    batch = fetcher.fetch_replies(cursor)
    assert subjects(batch.replies) == ["written earlier, moved in later"]
    assert fetcher.fetch_replies(batch.cursor).replies == ()


def test_batch_size_limits_a_batch_and_has_more_says_more_are_waiting(tmp_path: Path) -> None:
    for i in range(5):
        deliver(tmp_path, f"m{i}", at_ns=BASE + i * SECOND)
    fetcher = MaildirReplyFetcher(tmp_path, batch_size=2)
    first = fetcher.fetch_replies(None)
    second = fetcher.fetch_replies(first.cursor)
    third = fetcher.fetch_replies(second.cursor)
    assert [subjects(b.replies) for b in (first, second, third)] == [
        ["m0", "m1"],
        ["m2", "m3"],
        ["m4"],
    ]
    assert [b.has_more for b in (first, second, third)] == [True, True, False]


def test_fetching_leaves_the_files_where_they_are(tmp_path: Path) -> None:
    key = deliver(tmp_path, "one", at_ns=BASE)
    MaildirReplyFetcher(tmp_path).fetch_replies(None)
    assert os.listdir(tmp_path / "new") == [key]
    assert os.listdir(tmp_path / "cur") == []


def test_messages_in_cur_are_read_too(tmp_path: Path) -> None:
    key = deliver(tmp_path, "read by a person", at_ns=BASE)
    os.rename(tmp_path / "new" / key, tmp_path / "cur" / f"{key}:2,S")
    (reply,) = MaildirReplyFetcher(tmp_path).fetch_replies(None).replies
    assert reply.subject == "read by a person"
    assert reply.source_id == key


def test_a_message_moved_to_cur_after_fetching_is_not_returned_again(tmp_path: Path) -> None:
    key = deliver(tmp_path, "one", at_ns=BASE)
    fetcher = MaildirReplyFetcher(tmp_path)
    cursor = fetcher.fetch_replies(None).cursor
    os.rename(tmp_path / "new" / key, tmp_path / "cur" / f"{key}:2,S")
    assert fetcher.fetch_replies(cursor).replies == ()


def test_a_cursor_that_was_not_issued_by_the_fetcher_is_invalid_input(tmp_path: Path) -> None:
    deliver(tmp_path, "one", at_ns=BASE)
    with pytest.raises(InvalidInput, match="cursor") as caught:
        MaildirReplyFetcher(tmp_path).fetch_replies("not-a-cursor")
    assert caught.value.field == "cursor"


def test_a_damaged_cursor_is_invalid_input(tmp_path: Path) -> None:
    deliver(tmp_path, "one", at_ns=BASE)
    fetcher = MaildirReplyFetcher(tmp_path)
    cursor = fetcher.fetch_replies(None).cursor
    assert cursor is not None
    with pytest.raises(InvalidInput, match="cursor"):
        fetcher.fetch_replies(cursor[:-6] + "AAAAAA")


def test_a_malformed_message_file_gives_a_reply_with_warnings(tmp_path: Path) -> None:
    raw = b"From: a@example.com\nSubject: broken\nContent-Type: multipart/mixed\n\nno parts\n"
    deliver(tmp_path, "", at_ns=BASE, raw=raw)
    (reply,) = MaildirReplyFetcher(tmp_path).fetch_replies(None).replies
    assert reply.subject == "broken"
    assert reply.warnings


def test_a_missing_maildir_is_unavailable_for_the_fetcher(tmp_path: Path) -> None:
    with pytest.raises(Unavailable, match="absent"):
        MaildirReplyFetcher(tmp_path / "absent").fetch_replies(None)


def test_the_fetcher_can_start_from_an_empty_maildir_it_creates(tmp_path: Path) -> None:
    batch = MaildirReplyFetcher(tmp_path / "inbox", create=True).fetch_replies(None)
    assert batch.replies == ()
    assert batch.has_more is False


def test_check_of_the_fetcher_fails_for_a_folder_that_is_not_a_maildir(tmp_path: Path) -> None:
    with pytest.raises(Unavailable, match="not a Maildir"):
        MaildirReplyFetcher(tmp_path).check()


def test_an_unreadable_message_file_is_returned_with_a_warning_and_holds_back_nothing(
    tmp_path: Path,
) -> None:
    now = time.time_ns()
    deliver(tmp_path, "before", at_ns=now - 2_000_000_000)
    (tmp_path / "new" / "9999999999.unreadable.host").mkdir()  # reading it fails
    fetcher = MaildirReplyFetcher(tmp_path)
    batch = fetcher.fetch_replies(None)
    assert subjects(batch.replies) == ["before", ""]
    assert batch.replies[1].source_id == "9999999999.unreadable.host"
    assert "could not be read" in batch.replies[1].warnings[0]
    deliver(tmp_path, "after", at_ns=now + 2_000_000_000)
    assert subjects(fetcher.fetch_replies(batch.cursor).replies) == ["after"]


def test_two_senders_on_one_maildir_see_each_others_deliveries(tmp_path: Path) -> None:
    """Each sender keeps the index as it has read it and reads only what was appended since:
    a Message-ID another sender (another process) delivered after this one last looked is
    still found, and the file is not written twice."""
    box = tmp_path / "box"
    first, second = MaildirSender(box), MaildirSender(box)

    def to(n: int) -> EmailMessage:
        return EmailMessage(to="a@example.com", subject="Hi", text="x", message_id=f"<{n}@ex.com>")

    second.send(to(0))  # the second sender has read the index once
    for n in range(1, 50):
        first.send(to(n))
    repeated = second.send(to(25))
    assert len(os.listdir(box / "new")) == 50
    assert repeated.location == first.send(to(25)).location
    second.send(to(50))
    assert first.send(to(50)).location is not None
    assert len(os.listdir(box / "new")) == 51


def test_an_index_replaced_by_a_shorter_file_is_read_again(tmp_path: Path) -> None:
    from aicmo_gateway.builtin.maildir import INDEX_FILE

    box = tmp_path / "box"
    sender = MaildirSender(box)
    for n in range(3):
        sender.send(EmailMessage(to="a@example.com", subject="Hi", text="x", message_id=f"<{n}@x>"))
    (box / INDEX_FILE).write_text("", encoding="utf-8")  # an operator cleared it
    sender.send(EmailMessage(to="a@example.com", subject="Hi", text="x", message_id="<0@x>"))
    assert len(os.listdir(box / "new")) == 4  # its deliveries are forgotten with it
